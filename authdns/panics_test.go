package authdns

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/zones"
)

// panicOn is the test-only way in: the serving snapshot's DYNA backend,
// wrapped to panic for clients whose ECS address is in 198.18.0.0/15.
type panicOn struct{ dnsserver.DynBackend }

func (p panicOn) Resolve(d *zones.Dyn, c *dnsserver.Client, out *zones.DynAnswer, info *dnsserver.DynInfo) {
	if c.HasECS && netip.MustParsePrefix("198.18.0.0/15").Contains(c.ECS) {
		panic("test: a query that breaks the answer path")
	}
	p.DynBackend.Resolve(d, c, out, info)
}

func loggedDaemon(t *testing.T, logs *testutil.SyncBuffer, extraCfg string) *Daemon {
	t.Helper()
	dir := t.TempDir()
	writeData(t, filepath.Join(dir, "data"), 1, "")
	cfg := "listen: [\"127.0.0.1:0\"]\ndata: data\nudp_sockets: 1\n" + extraCfg
	os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte(cfg), 0o644)
	d := startDaemonAt(t, filepath.Join(dir, "authdns.yaml"), slog.New(slog.NewTextHandler(logs, nil)))
	return d
}

func dynQuery(t *testing.T, id uint16, ecs string) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("dyn.example.com.", dns.TypeA)
	m.Id = id
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET,
		Family: 1, SourceNetmask: 24, Address: netip.MustParseAddr(ecs).AsSlice()})
	p, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A panicking query over UDP and TCP, and a panicking control or metrics
// request: each is dropped (HTTP: 500), logged with its stack, counted in
// authdns_panics_total, and the daemon answers the next one.
func TestPanicsAreCountedAndSurvived(t *testing.T) {
	var logs testutil.SyncBuffer
	metrics := testutil.FreeAddr(t)
	d := loggedDaemon(t, &logs, "metrics: "+metrics+"\n")
	snap := *d.Server().Snapshot()
	snap.Dyn = panicOn{snap.Dyn}
	d.Server().Store(&snap)

	for _, network := range []string{"udp", "tcp"} {
		conn, err := net.Dial(network, d.Server().Addrs()[0].String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second)) // failure safety net only
		c := &dns.Conn{Conn: conn}
		for _, p := range [][]byte{dynQuery(t, 1, "198.18.0.0"), dynQuery(t, 2, "203.0.113.0")} {
			if _, err := c.Write(p); err != nil {
				t.Fatal(err)
			}
		}
		// One connection (one UDP reader) answers in order: the first
		// reply is the second query's.
		if r, err := c.ReadMsg(); err != nil || r.Id != 2 || len(r.Answer) != 1 {
			t.Fatalf("%s: the next query: %v %v", network, r, err)
		}
	}

	// The chain every control and metrics request goes through.
	srv := (&listeners{d: d}).newHTTPServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("test: a control request that breaks its handler")
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}

	body := get(t, "http://"+metrics+"/metrics")
	for _, want := range []string{`authdns_panics_total{handler="dns_udp"} 1`, `authdns_panics_total{handler="dns_tcp"} 1`,
		`authdns_panics_total{handler="http"} 1`} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	log := logs.String()
	// The TCP panic follows within a second: counted, not logged again.
	for _, want := range []string{"panic while answering a DNS query", "protocol=udp",
		"panic while serving an HTTP request", "path=/v1/status", "goroutine ", "authdns.panicOn.Resolve"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if got := askA(t, d, "www.example.com."); got != "192.0.2.1" {
		t.Fatalf("after the panics: %s", got)
	}
}
