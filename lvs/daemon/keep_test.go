package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// A restart during a DNS failure adopts the kernel's destinations: one
// that no resolved host accounts for may be an unresolved host's, so it is
// kept (and logged) until that host resolves or leaves the pool.
func TestUnresolvedHostKeepsAdoptedDestination(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "pybal.conf")
	testutil.WriteAtomic(t, conf, `[global]
pool-poll-interval = 0.02
dns-refresh-interval = 0.05

[a]
protocol = tcp
ip = 10.2.2.1
port = 80
scheduler = wrr
config = file://`+dir+`/a
`)
	testutil.WriteAtomic(t, filepath.Join(dir, "a"), line("mw2.example", 10, true)+line("mw9.example", 10, true))
	vip := ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 80}
	dest := func(a string, w uint32) ipvs.Destination {
		return ipvs.Destination{Addr: netip.MustParseAddr(a), Port: 80, Weight: w, Forward: ipvs.DirectRoute}
	}
	// What the previous run left in the kernel.
	kernel := newOpsDirector()
	if _, err := kernel.Reconcile(context.Background(), []ipvs.Desired{{Service: ipvs.Service{Key: vip, Scheduler: "wrr"},
		Destinations: []ipvs.Destination{dest("127.0.0.2", 10), dest("127.0.0.9", 10), dest("127.0.0.8", 5)}}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	answers := map[string]string{"mw2.example": "127.0.0.2"}
	lookup := func(_ context.Context, _, host string) ([]netip.Addr, error) {
		mu.Lock()
		defer mu.Unlock()
		if a, ok := answers[host]; ok {
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		}
		return nil, fmt.Errorf("lookup %s: server misbehaving", host)
	}
	var logBuf testutil.SyncBuffer
	runDaemon(t, Options{ConfigPath: conf, Director: kernel, Lookup: lookup, Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	kernelDests := func() string {
		st, err := kernel.Status(context.Background())
		if err != nil || len(st) != 1 {
			return fmt.Sprint(st, err)
		}
		var out []string
		for _, x := range st[0].Destinations {
			out = append(out, fmt.Sprintf("%s/%d", x.Addr, x.Weight))
		}
		return strings.Join(out, " ")
	}
	testutil.WaitFor(t, "keep logged", func() bool {
		return strings.Contains(logBuf.String(), "Keeping IPVS destination 127.0.0.9:80 of -t 10.2.2.1:80: host(s) mw9.example have not resolved yet")
	})
	// Several reconciliations later, both unattributed destinations are
	// still there, at their weights, logged once each.
	testutil.WaitFor(t, "retries", func() bool {
		return strings.Count(logBuf.String(), "Initialization failed for server mw9.example") >= 3
	})
	if got := kernelDests(); got != "127.0.0.2/10 127.0.0.8/5 127.0.0.9/10" {
		t.Errorf("kernel after restart with mw9 unresolved: %s", got)
	}
	if n := strings.Count(logBuf.String(), "Keeping IPVS destination 127.0.0.9:80"); n != 1 {
		t.Errorf("keep logged %d times", n)
	}
	// mw9 resolves: its destination is attributed, the other one goes.
	mu.Lock()
	answers["mw9.example"] = "127.0.0.9"
	mu.Unlock()
	testutil.WaitFor(t, "unattributed removed", func() bool { return kernelDests() == "127.0.0.2/10 127.0.0.9/10" })
}
