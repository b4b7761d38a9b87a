package daemon

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

const monitorConf = `[global]
pool-poll-interval = 0.02
dns-refresh-interval = 0.05

[a]
protocol = tcp
ip = 10.2.2.1
port = 80
scheduler = wrr
config = file://DIR/a
depool-threshold = 0
rise = 3
monitors = ["RunCommand"]
runcommand.command = /usr/bin/test
runcommand.arguments = [server.ip, "=", "127.0.0.5"]
runcommand.interval = 0.1
`

// After an address change the monitors restart but keep their damper
// state: a down server needs rise good results, not one, to come back.
// Disabled servers are monitored too.
func TestMonitorsKeepDamperAndWatchDisabled(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "pybal.conf")
	testutil.WriteAtomic(t, conf, strings.ReplaceAll(monitorConf, "DIR", dir))
	testutil.WriteAtomic(t, filepath.Join(dir, "a"), line("mw1.example", 10, true)+line("mw2.example", 10, false))
	var mu sync.Mutex
	answers := map[string]string{"mw1.example": "127.0.0.4", "mw2.example": "127.0.0.6"}
	lookup := func(_ context.Context, _, host string) ([]netip.Addr, error) {
		mu.Lock()
		defer mu.Unlock()
		return []netip.Addr{netip.MustParseAddr(answers[host])}, nil
	}
	reg := prometheus.NewRegistry()
	d, _ := runDaemon(t, Options{ConfigPath: conf, Director: &fakeDirector{}, Lookup: lookup, Registry: reg,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	server := func(i int) (ready, up bool) {
		p := d.Pools()
		if len(p) == 0 || len(p[0].Servers) != 2 {
			return false, false
		}
		s := p[0].Servers[i]
		return s.Ready, s.Up
	}
	testutil.WaitFor(t, "both servers down", func() bool {
		r1, u1 := server(0)
		r2, u2 := server(1)
		return r1 && !u1 && r2 && !u2
	})
	if n := counter(t, reg, "pybal_monitor_down_results_total", map[string]string{"host": "mw2.example"}); n < 1 {
		t.Error("the disabled server was not checked")
	}
	// mw1 moves to an address where the check succeeds.
	mu.Lock()
	answers["mw1.example"] = "127.0.0.5"
	mu.Unlock()
	testutil.WaitFor(t, "mw1 up", func() bool { _, up := server(0); return up })
	if n := counter(t, reg, "pybal_monitor_up_results_total", map[string]string{"host": "mw1.example"}); n < 3 {
		t.Errorf("mw1 up after %v good result(s), want rise = 3", n)
	}
}
