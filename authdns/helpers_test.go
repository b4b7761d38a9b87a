package authdns

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// zoneText is a small zone with a serial and one A record.
func zoneText(serial int, extra string) string {
	return fmt.Sprintf(`$TTL 300
@ IN SOA ns1.example.com. hostmaster.example.com. %d 7200 1800 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
www IN A 192.0.2.1
%s`, serial, extra)
}

// geoYAML is a geoip.yaml using the repository's default database.
func geoYAML() string {
	return `maps:
  m:
    geoip2_db: ` + filepath.Join(repoRoot(), "config", "geoip", "default-city.mmdb") + `
    datacenters: [dc1, dc2]
    nets: nets.yaml
resources:
  r:
    map: m
    dcmap: {dc1: 192.0.2.101, dc2: 192.0.2.102}
`
}

// writeData makes a data directory: zones/example.com, geoip.yaml, a nets
// file and admin_state.
func writeData(t testing.TB, dir string, serial int, extra string) {
	t.Helper()
	files := map[string]string{
		"zones/example.com": zoneText(serial, "dyn IN DYNA geoip!r\n"+extra),
		"geoip.yaml":        geoYAML(),
		"nets.yaml":         "10.0.0.0/8: [dc2]\n",
		"admin_state":       "",
	}
	for p, c := range files {
		p = filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// testDaemon starts a daemon with a data directory on a free loopback
// port, its control socket in dir.
func testDaemon(t *testing.T, extraCfg string) (*Daemon, string) {
	t.Helper()
	dir := t.TempDir()
	writeData(t, filepath.Join(dir, "data"), 1, "")
	cfg := "listen: [\"127.0.0.1:0\"]\ndata: data\nudp_sockets: 1\n" + extraCfg
	os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte(cfg), 0o644)
	d := startDaemonAt(t, filepath.Join(dir, "authdns.yaml"), quietLog())
	return d, dir
}

func askA(t *testing.T, d *Daemon, name string) string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, d.Server().Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) == 0 {
		return dns.RcodeToString[r.Rcode]
	}
	return r.Answer[0].(*dns.A).A.String()
}

// startDaemonAt starts the daemon of the configuration at path, logging
// to log, until the test ends.
func startDaemonAt(t testing.TB, path string, log *slog.Logger) *Daemon {
	t.Helper()
	d, err := New(path, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	startDaemon(t, d)
	return d
}

// startDaemon starts d (made by New, its options set) until the test
// ends.
func startDaemon(t testing.TB, d *Daemon) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		d.Shutdown(sctx)
	})
}
