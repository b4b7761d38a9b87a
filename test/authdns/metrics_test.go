package authdnse2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// scrape reads /metrics into series → value; a series is written as
// Prometheus prints it: name{label="value",...} with labels sorted.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// mustAsk sends one query and fails the test without an answer.
func mustAsk(t testing.TB, addr, network, name string, qtype uint16, subnet string) *dns.Msg {
	t.Helper()
	r, err := ask(addr, network, name, qtype, subnet)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, subnet, err)
	}
	return r
}

// Every metric the operator is promised, after real queries: exact counts,
// since nothing else queries this server.
func TestMetricsAfterQueries(t *testing.T) {
	metrics := testutil.FreeAddr(t)
	s := startServerWith(t, "metrics: "+metrics+"\n", "site/esams => DOWN\ngeoip/text-addrs/eqsin => DOWN/30\n")
	started := time.Now()

	for range 3 {
		mustAsk(t, s.addr, "udp", "static.example.org.", dns.TypeA, "")
	}
	mustAsk(t, s.addr, "udp", "static.example.org.", dns.TypeAAAA, "")
	mustAsk(t, s.addr, "udp", "nope.example.org.", dns.TypeA, "")
	for range 2 {
		mustAsk(t, s.addr, "tcp", "static.example.org.", dns.TypeA, "")
	}
	// One DYNA answer per reason, each from a different client subnet.
	dyn := []struct{ subnet, want, reason, dc string }{
		{"10.1.0.0/24", "198.51.100.224", "nets", "eqiad"},
		{"198.51.100.0/26", "198.51.100.226", "geoip", "ulsfo"},
		{"100.96.0.0/24", "192.0.2.227", "auto", "magru"},
		{"8.8.8.0/24", "198.51.100.224", "default", "eqiad"},
		{"192.0.2.0/26", "192.0.2.226", "failover", "drmrs"}, // esams is DOWN
	}
	for _, q := range dyn {
		r := mustAsk(t, s.addr, "udp", "www.example.org.", dns.TypeA, q.subnet)
		if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != q.want {
			t.Fatalf("www from %s: %v, want %s", q.subnet, r.Answer, q.want)
		}
	}
	mustAsk(t, s.addr, "udp", "esams-only.example.org.", dns.TypeA, "203.0.113.0/27")
	// EDNS without ECS: counted as EDNS, not as ECS.
	e := new(dns.Msg)
	e.SetQuestion("static.example.org.", dns.TypeA)
	e.SetEdns0(1232, false)
	if _, err := dns.Exchange(e, s.addr); err != nil {
		t.Fatal(err)
	}

	// A TCP connection left open.
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Answer one query on it, so the server has surely accepted it.
	dc := &dns.Conn{Conn: conn}
	m := new(dns.Msg)
	m.SetQuestion("static.example.org.", dns.TypeA)
	if err := dc.WriteMsg(m); err != nil {
		t.Fatal(err)
	}
	if _, err := dc.ReadMsg(); err != nil {
		t.Fatal(err)
	}

	// A reload that works, then one that fails.
	zone := filepath.Join(s.dir, "zones", "example.org")
	orig, _ := os.ReadFile(zone)
	os.WriteFile(zone, []byte(strings.Replace(string(orig), "2026112101", "2026112105", 1)), 0o644)
	mark := len(s.Logs())
	s.Signal(syscall.SIGHUP)
	s.WaitLog(mark, "reload complete")
	os.WriteFile(zone, []byte(string(orig)+"broken IN A 999.1.1.1\n"), 0o644)
	mark = len(s.Logs())
	s.Signal(syscall.SIGHUP)
	s.WaitLog(mark, "reload failed")
	done := time.Now()

	got := scrape(t, metrics)
	want := map[string]float64{
		`authdns_queries_total{protocol="udp",qtype="A",rcode="NOERROR"}`:              3 + 5 + 1 + 1,
		`authdns_queries_total{protocol="udp",qtype="AAAA",rcode="NOERROR"}`:           1,
		`authdns_queries_total{protocol="udp",qtype="A",rcode="NXDOMAIN"}`:             1,
		`authdns_queries_total{protocol="tcp",qtype="A",rcode="NOERROR"}`:              2 + 1,
		`authdns_ecs_queries_total`:                                                    6,
		`authdns_dyn_answers_total{dc="eqiad",reason="nets"}`:                          1,
		`authdns_dyn_answers_total{dc="ulsfo",reason="geoip"}`:                         1,
		`authdns_dyn_answers_total{dc="magru",reason="auto"}`:                          1,
		`authdns_dyn_answers_total{dc="eqiad",reason="default"}`:                       1,
		`authdns_dyn_answers_total{dc="drmrs",reason="failover"}`:                      1,
		`authdns_dyn_answers_total{dc="esams",reason="pinned"}`:                        1,
		`authdns_admin_state_forced{pattern="site/esams",state="DOWN"}`:                1,
		`authdns_admin_state_forced{pattern="geoip/text-addrs/eqsin",state="DOWN/30"}`: 1,
		`authdns_admin_state_entries`:                                                  2,
		`authdns_reloads_total{result="success"}`:                                      1,
		`authdns_reloads_total{result="failure"}`:                                      1,
		`authdns_zone_serial{zone="example.org."}`:                                     2026112105,
		`authdns_tcp_connections`:                                                      1,
		`authdns_tcp_connections_accepted_total`:                                       3,
	}
	for series, v := range want {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
		}
	}
	for _, result := range []string{"success", "failure"} {
		ts := got[`authdns_last_reload_timestamp_seconds{result="`+result+`"}`]
		if ts < float64(started.Unix()) || ts > float64(done.Unix()+1) {
			t.Errorf("last %s reload at %v, not between %v and %v", result, ts, started.Unix(), done.Unix())
		}
	}
	if t.Failed() {
		t.Logf("scraped:\n%v", got)
	}
}

// `ctl status` and `ctl states` over the control socket.
func TestCtlStatusAndStates(t *testing.T) {
	s := startServerWith(t, "", "site/esams => DOWN\n")
	ctl := func(cmd string) []byte {
		t.Helper()
		out, err := exec.Command(filepath.Join(binDir, "authdns"), "ctl", "--control", filepath.Join(s.dir, "control.sock"), cmd).Output()
		if err != nil {
			t.Fatalf("ctl %s: %v", cmd, err)
		}
		return out
	}
	version, err := exec.Command(filepath.Join(binDir, "authdns"), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := os.ReadFile(filepath.Join(s.dir, "admin_state"))
	sum := sha256.Sum256(admin)

	var st struct {
		Version          string  `json:"version"`
		Uptime           float64 `json:"uptime_seconds"`
		AdminStateDigest string  `json:"admin_state_digest"`
		AdminEntries     int     `json:"admin_state_entries"`
		ConfigDigest     string  `json:"config_digest"`
		ZonesDigest      string  `json:"zones_digest"`
		Zones            []struct {
			Name   string `json:"name"`
			Serial uint32 `json:"serial"`
		} `json:"zones"`
	}
	if err := json.Unmarshal(ctl("status"), &st); err != nil {
		t.Fatal(err)
	}
	if "authdns "+st.Version != strings.TrimSpace(string(version)) {
		t.Errorf("version %q, `authdns --version` says %q", st.Version, version)
	}
	if st.Uptime <= 0 {
		t.Errorf("uptime %v", st.Uptime)
	}
	if st.AdminStateDigest != hex.EncodeToString(sum[:]) || st.AdminEntries != 1 {
		t.Errorf("admin_state digest %s (%d entries), the file's sha256 is %x", st.AdminStateDigest, st.AdminEntries, sum)
	}
	if len(st.ConfigDigest) != 64 || len(st.ZonesDigest) != 64 {
		t.Errorf("digests: config %q zones %q", st.ConfigDigest, st.ZonesDigest)
	}
	if len(st.Zones) != 1 || st.Zones[0].Name != "example.org." || st.Zones[0].Serial != 2026112101 {
		t.Errorf("zones %+v", st.Zones)
	}

	var states map[string]struct {
		State string `json:"state"`
	}
	out := ctl("states")
	if err := json.Unmarshal(out, &states); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if e := states["site/esams"]; !strings.HasPrefix(e.State, "DOWN") {
		t.Errorf("site/esams: %+v\n%s", e, out)
	}
	if e := states["geoip/text-addrs/esams"]; !strings.HasPrefix(e.State, "DOWN") {
		t.Errorf("geoip/text-addrs/esams: %+v\n%s", e, out)
	}
	if e := states["geoip/text-addrs/eqiad"]; e.State != "UP" {
		t.Errorf("geoip/text-addrs/eqiad: %+v\n%s", e, out)
	}
}
