package authdnse2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// site is one loopback HTTP health endpoint, stopped and restarted by the
// test; flapping answers 200 and 500 alternately. hits counts requests.
type site struct {
	t        *testing.T
	addr     string
	mu       sync.Mutex
	srv      *http.Server
	flapping atomic.Bool
	hits     atomic.Int64
}

func (s *site) start() {
	s.t.Helper()
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n := s.hits.Add(1); s.flapping.Load() && n%2 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(l)
}

func (s *site) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// healthServer starts authdns with three sites (127.0.2.1-3) checked by
// http_status at gdnsd's smallest interval, a fourth resource checked by
// a direct extfile, and clients 10.1/16, 10.2/16, 10.3/16 mapped to
// s1, s2, s3 first.
func healthServer(t *testing.T) (*server, []*site, string) {
	t.Helper()
	ips := []string{"127.0.2.1", "127.0.2.2", "127.0.2.3"}
	port := testutil.FreePort(t, ips...)
	var sites []*site
	for _, ip := range ips {
		s := &site{t: t, addr: net.JoinHostPort(ip, port)}
		s.start()
		t.Cleanup(s.stop)
		sites = append(sites, s)
	}
	dir := t.TempDir()
	ext := filepath.Join(dir, "ext.states")
	testutil.WriteAtomic(t, ext, "127.0.2.1 => UP\n127.0.2.2 => UP\n127.0.2.3 => UP\n")
	zone := `$TTL 300
@ IN SOA ns1.example.org. hostmaster.example.org. 1 7200 1800 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
web 120/1 IN DYNA geoip!web
ext 120/1 IN DYNA geoip!ext
`
	os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
	os.WriteFile(filepath.Join(dir, "zones", "example.org"), []byte(zone), 0o644)
	cfg := fmt.Sprintf(`listen: ["127.0.0.1:0", "[::1]:0"]
zones: zones
admin_state: admin_state
udp_sockets: 1
service_types:
  web_http: {plugin: http_status, port: %s, url_path: /health, interval: 2, timeout: 1, down_thresh: 2, ok_thresh: 2, up_thresh: 3}
  ext: {plugin: extfile, file: %s, direct: true, interval: 2}
geoip:
  maps:
    m:
      datacenters: [s1, s2, s3]
      nets: {10.1.0.0/16: [s1, s2, s3], 10.2.0.0/16: [s2, s3, s1], 10.3.0.0/16: [s3, s1, s2]}
  resources:
    web: {map: m, service_types: web_http, dcmap: {s1: 127.0.2.1, s2: 127.0.2.2, s3: 127.0.2.3}}
    ext: {map: m, service_types: ext, dcmap: {s1: 127.0.2.1, s2: 127.0.2.2, s3: 127.0.2.3}}
`, port, ext)
	srv := startConfig(t, dir, cfg)
	return srv, sites, ext
}

// startConfig starts authdns on cfg written to dir/authdns.yaml.
func startConfig(t *testing.T, dir, cfg string) *server {
	t.Helper()
	os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte(cfg), 0o644)
	s := &server{t: t, dir: dir}
	cmd := exec.Command(filepath.Join(binDir, "authdns"), "--config", filepath.Join(dir, "authdns.yaml"))
	s.Daemon = testutil.StartDaemon(t, cmd, func(line string) bool {
		if i := strings.Index(line, "msg=listening udp="); i >= 0 {
			if a := strings.Fields(line[i+len("msg=listening udp="):])[0]; !strings.HasPrefix(a, "[") {
				s.addr = a
			}
		}
		return s.addr != "" && strings.Contains(line, "msg=serving")
	})
	return s
}

// siteOf is the site answering name for a client in subnet.
func siteOf(t *testing.T, s *server, name, subnet string) string {
	t.Helper()
	r, err := ask(s.addr, "udp", name+".example.org.", dns.TypeA, subnet)
	if err != nil || len(r.Answer) == 0 {
		t.Fatalf("%s from %s: %v %v", name, subnet, r, err)
	}
	return map[string]string{"127.0.2.1": "s1", "127.0.2.2": "s2", "127.0.2.3": "s3"}[r.Answer[0].(*dns.A).A.String()]
}

func waitSite(t *testing.T, s *server, name, subnet, want string) {
	t.Helper()
	testutil.WaitFor(t, fmt.Sprintf("%s from %s answered by %s", name, subnet, want), func() bool {
		return siteOf(t, s, name, subnet) == want
	})
}

// healthStates is `authdns ctl states`, the monitored fields.
func healthStates(t *testing.T, s *server) map[string]struct {
	State, RealState, LastCheck, LastError string
} {
	t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "authdns"), "ctl", "--control", filepath.Join(s.dir, "control.sock"), "states").Output()
	if err != nil {
		t.Fatalf("ctl states: %v", err)
	}
	var raw map[string]struct {
		State     string `json:"state"`
		RealState string `json:"real_state"`
		LastCheck string `json:"last_check"`
		LastError string `json:"last_error"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m := map[string]struct{ State, RealState, LastCheck, LastError string }{}
	for k, v := range raw {
		m[k] = struct{ State, RealState, LastCheck, LastError string }{v.State, v.RealState, v.LastCheck, v.LastError}
	}
	return m
}

// Three sites behind http_status checks: a stopped site's clients move to
// the next site after down_thresh checks and come back after up_thresh;
// admin_state forces a monitored-down site back; a reload keeps the
// monitors' state; a flapping site goes down once and stays down; a
// direct extfile change applies at once.
func TestHealthChecksMoveAnswers(t *testing.T) {
	s, sites, ext := healthServer(t)
	if st := healthStates(t, s)["127.0.2.1/web_http"]; st.LastCheck == "" {
		t.Fatalf("the initial round left no check result for 127.0.2.1/web_http: %+v", st)
	}
	for _, c := range []struct{ subnet, want string }{{"10.1.0.0/24", "s1"}, {"10.2.0.0/24", "s2"}, {"10.3.0.0/24", "s3"}} {
		if got := siteOf(t, s, "web", c.subnet); got != c.want {
			t.Fatalf("all up: a client of %s gets %s, want %s", c.subnet, got, c.want)
		}
	}

	// s1 stops: after down_thresh (2) failed checks its clients get s2;
	// s3's clients never noticed.
	sites[0].stop()
	waitSite(t, s, "web", "10.1.0.0/24", "s2")
	if got := siteOf(t, s, "web", "10.3.0.0/24"); got != "s3" {
		t.Errorf("a client of s3 moved to %s", got)
	}
	if st := healthStates(t, s)["geoip/web/s1"]; st.RealState != "DOWN" || st.LastError == "" {
		t.Errorf("geoip/web/s1 while stopped: %+v", st)
	}

	// admin_state forces it back; removing the line returns to monitoring.
	writeAdmin(t, s, "geoip/web/s1 => UP\n")
	waitSite(t, s, "web", "10.1.0.0/24", "s1")
	if st := healthStates(t, s)["geoip/web/s1"]; st.State != "UP!" || st.RealState != "DOWN" {
		t.Errorf("geoip/web/s1 forced: %+v", st)
	}
	writeAdmin(t, s, "")
	waitSite(t, s, "web", "10.1.0.0/24", "s2")

	// s1 restarts and the daemon reloads at once: the pair keeps its DOWN
	// state (a reset would make it UP from one check), then up_thresh (3)
	// successes bring it back.
	sites[0].start()
	s.sighup()
	if got := siteOf(t, s, "web", "10.1.0.0/24"); got != "s2" {
		t.Errorf("right after the reload a client of s1 gets %s: the monitor was reset", got)
	}
	waitSite(t, s, "web", "10.1.0.0/24", "s1")

	// s3 flaps (200, 500, 200, ...): failures accumulate until it is DOWN,
	// and it stays DOWN for as long as it flaps.
	sites[2].flapping.Store(true)
	waitSite(t, s, "web", "10.3.0.0/24", "s1")
	from := sites[2].hits.Load()
	testutil.WaitFor(t, "six more checks of the flapping site", func() bool {
		if got := siteOf(t, s, "web", "10.3.0.0/24"); got != "s1" {
			t.Fatalf("the flapping site answers again (%s)", got)
		}
		return sites[2].hits.Load() >= from+6
	})

	// A direct extfile: a change applies at once, without counting.
	if got := siteOf(t, s, "ext", "10.2.0.0/24"); got != "s2" {
		t.Fatalf("ext from 10.2: %s", got)
	}
	testutil.WriteAtomic(t, ext, "127.0.2.1 => UP\n127.0.2.2 => DOWN\n127.0.2.3 => UP\n")
	waitSite(t, s, "ext", "10.2.0.0/24", "s3")
}

// checkconf reports bad service types and undeclared references with
// their file:line, in authdns.yaml and in the geoip file, and passes once
// they are fixed.
func TestCheckconfServiceTypes(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
	os.WriteFile(filepath.Join(dir, "zones", "example.org"), []byte(`$TTL 300
@ IN SOA ns1.example.org. hostmaster.example.org. 1 7200 1800 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
web IN DYNA geoip!web
`), 0o644)
	geo := `maps:
  m: {datacenters: [s1, s2], nets: {10.0.0.0/8: [s1, s2]}}
resources:
  web:
    map: m
    service_types: [web_http, nope]
    dcmap: {s1: 192.0.2.1, s2: 192.0.2.2}
`
	os.WriteFile(filepath.Join(dir, "geoip.yaml"), []byte(geo), 0o644)
	cfg := `listen: ["127.0.0.1:0"]
zones: zones
geoip: geoip.yaml
service_types:
  web_http: {plugin: http_status, interval: 4, timeout: 4}
`
	path := filepath.Join(dir, "authdns.yaml")
	os.WriteFile(path, []byte(cfg), 0o644)
	_, errOut, code := runAuthdns(t, "checkconf", "--config", path)
	if code != 1 || !strings.Contains(errOut, path+":5: service_types.web_http.timeout: must be less than interval (4)") {
		t.Errorf("bad timeout: exit %d\n%s", code, errOut)
	}
	os.WriteFile(path, []byte(strings.Replace(cfg, "timeout: 4", "timeout: 3", 1)), 0o644)
	_, errOut, code = runAuthdns(t, "checkconf", "--config", path)
	want := filepath.Join(dir, "geoip.yaml") + `:6: geoip.resources.web.service_types: no service type "nope"`
	if code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("undeclared type: exit %d\n%s\nwant %s", code, errOut, want)
	}
	os.WriteFile(filepath.Join(dir, "geoip.yaml"), []byte(strings.Replace(geo, ", nope", "", 1)), 0o644)
	if out, errOut, code := runAuthdns(t, "checkconf", "--config", path); code != 0 {
		t.Errorf("fixed: exit %d\n%s%s", code, out, errOut)
	}
}
