package etcde2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/routing"
)

// The European ECS client of the README's dig examples: esams answers it,
// drmrs when esams is down.
const (
	euSubnet  = "192.0.2.0/24"
	esamsAddr = "192.0.2.224"
	drmrsAddr = "192.0.2.226"
	vip       = "10.2.3.1:80"
)

// The default pools' hosts, resolved to loopback addresses inside lvsd's
// mount namespace (see startLvsd).
var hostAddrs = map[string]string{
	"mw1001.eqiad.wmnet": "127.0.1.1", "mw1002.eqiad.wmnet": "127.0.1.2",
	"mw1003.eqiad.wmnet": "127.0.1.3", "mw1004.eqiad.wmnet": "127.0.1.4",
}

type fleet struct {
	t       testing.TB
	dir     string
	etcd    *testetcd.Etcd
	env     []string // CONFCTL_ETCD and CONFCTL_ROUTING for confctl
	authdns []*dnsServer
	lvsd    *proc
	lvsAPI  string // http://127.0.0.1:PORT
	traffic *proc
	routes  string // http://127.0.0.1:PORT
}

type dnsServer struct {
	*proc
	dir, addr, metrics string
}

// startFleet starts etcd, seeds it with `confctl sync` from the default
// configuration, pools eqiad's apache2 servers, and starts the daemons.
func startFleet(t testing.TB, nAuthdns int) *fleet {
	t.Helper()
	f := &fleet{t: t, dir: t.TempDir(), etcd: testetcd.Start(t)}
	f.env = []string{"CONFCTL_ETCD=" + f.etcd.Endpoint(), "CONFCTL_ROUTING=" + configFile("routing.yaml"), "USER=fleet-test", "SUDO_USER="}
	if r := f.confctl("sync", "--pools", configFile("conftool/pools.yaml"), "--routing", configFile("routing.yaml")); r.code != 0 {
		t.Fatalf("confctl sync: %s", r)
	}
	if r := f.confctl("--yes", "select", "dc=eqiad,cluster=appserver,service=apache2", "set/pooled=yes:weight=10"); r.code != 0 {
		t.Fatalf("pooling apache2: %s", r)
	}
	for i := range nAuthdns {
		f.authdns = append(f.authdns, f.startAuthdns(i))
	}
	f.startLvsd()
	f.startTraffic()
	return f
}

func (f *fleet) confctl(args ...string) result {
	f.t.Helper()
	return runBin(f.t, f.env, "confctl", args...)
}

var authdnsListening = regexp.MustCompile(`msg=listening udp=(127\.0\.0\.1:\d+)`)

// startAuthdns serves the default zones and GeoIP configuration, with an
// admin_state of its own and the fleet's etcd.
func (f *fleet) startAuthdns(i int) *dnsServer {
	t := f.t
	s := &dnsServer{dir: filepath.Join(f.dir, "authdns"+string(rune('a'+i)))}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s.metrics = "127.0.0.1:" + testutil.FreePort(t)
	writeFile(t, filepath.Join(s.dir, "authdns.yaml"), `listen: ["127.0.0.1:0"]
zones: `+configFile("zones")+`
geoip: `+configFile("geoip.yaml")+`
admin_state: admin_state
udp_sockets: 1
control: control.sock
metrics: `+s.metrics+`
etcd:
  endpoints: ["`+f.etcd.Endpoint()+`"]
`)
	cmd := exec.Command(filepath.Join(binDir, "authdns"), "--config", filepath.Join(s.dir, "authdns.yaml"))
	s.proc = start(t, "authdns"+string(rune('a'+i)), cmd, func(line string) bool {
		if m := authdnsListening.FindStringSubmatch(line); m != nil {
			s.addr = m[1]
		}
		return s.addr != "" && strings.Contains(line, "msg=serving")
	})
	return s
}

// startLvsd runs lvsd on config/pybal/pybal-etcd.conf, pointed at the
// fleet's etcd, in a mount namespace of its own whose /etc/hosts resolves
// the default pools' host names to loopback addresses: lvsd resolves pool
// host names with the system resolver, and the test must not edit the
// machine's /etc/hosts.
func (f *fleet) startLvsd() {
	t := f.t
	conf, err := os.ReadFile(configFile("pybal/pybal-etcd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	port := testutil.FreePort(t)
	host := strings.TrimPrefix(f.etcd.Endpoint(), "http://")
	text := strings.NewReplacer("127.0.0.1:2379", host, "instrumentation_port = 9091", "instrumentation_port = "+port).Replace(string(conf))
	pybal := filepath.Join(f.dir, "pybal.conf")
	writeFile(t, pybal, text)
	hosts := "127.0.0.1 localhost\n"
	for h, a := range hostAddrs {
		hosts += a + " " + h + "\n"
	}
	hostsFile := filepath.Join(f.dir, "hosts")
	writeFile(t, hostsFile, hosts)
	f.lvsAPI = "http://127.0.0.1:" + port
	script := `mount --bind "$1" /etc/hosts && shift && exec "$@"`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", hostsFile,
		filepath.Join(binDir, "lvsd"), "--config", pybal, "--dry-run", "--no-bgp")
	f.lvsd = start(t, "lvsd", cmd, func(line string) bool { return strings.Contains(line, "Initialization complete") })
	for _, h := range []string{"mw1001.eqiad.wmnet", "mw1002.eqiad.wmnet"} {
		f.lvsd.WaitLog(0, `op="-a -t `+vip+` -r `+hostAddrs[h]+`:80`)
	}
}

var trafficServing = regexp.MustCompile(`msg="trafficctl: serving routes" addr=(127\.0\.0\.1:\d+)`)

func (f *fleet) startTraffic() {
	t := f.t
	admin := filepath.Join(f.dir, "traffic-admin_state")
	writeFile(t, admin, "")
	cmd := exec.Command(filepath.Join(binDir, "trafficctl"), "serve", "--routing", configFile("routing.yaml"),
		"--admin-state", admin, "--listen", "127.0.0.1:0", "--poll", "0", "--etcd", f.etcd.Endpoint())
	f.traffic = start(t, "trafficctl", cmd, func(line string) bool {
		if m := trafficServing.FindStringSubmatch(line); m != nil {
			f.routes = "http://" + m[1]
			return true
		}
		return false
	})
}

// euAnswer is the address authdns s gives the European ECS client.
func euAnswer(t testing.TB, s *dnsServer) string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("www.example.org.", dns.TypeA)
	p := netip.MustParsePrefix(euSubnet)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1,
		SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()})
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, s.addr)
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	if len(r.Answer) == 0 {
		t.Fatalf("%s: no answer: %v", s.name, r)
	}
	return r.Answer[0].(*dns.A).A.String()
}

// waitEU waits until every authdns gives the European client want.
func (f *fleet) waitEU(want string) {
	f.t.Helper()
	for _, s := range f.authdns {
		testutil.WaitFor(f.t, s.name+" answering Europe "+want, func() bool { return euAnswer(f.t, s) == want })
	}
}

func httpGet(t testing.TB, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// routesResults reads trafficctl's /routes.
func (f *fleet) routesResults() []routing.Result {
	f.t.Helper()
	code, body := httpGet(f.t, f.routes+"/routes")
	if code != 200 {
		f.t.Fatalf("/routes: %d %s", code, body)
	}
	var rs []routing.Result
	if err := json.Unmarshal([]byte(body), &rs); err != nil {
		f.t.Fatalf("/routes: %v\n%s", err, body)
	}
	return rs
}

// routesAvoid reports whether no route entering at another site goes
// through site.
func (f *fleet) routesAvoid(site string) bool {
	rs := f.routesResults()
	if len(rs) == 0 {
		return false
	}
	for _, r := range rs {
		if r.Site == site {
			continue
		}
		for _, hop := range r.Path {
			if hop == site {
				return false
			}
		}
	}
	return true
}

// metric reads one series from a Prometheus text page; -1 when absent.
func metric(t testing.TB, url, series string) float64 {
	t.Helper()
	_, body := httpGet(t, url)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil {
				return f
			}
		}
	}
	return -1
}
