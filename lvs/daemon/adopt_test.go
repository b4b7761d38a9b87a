package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/lvs/coordinator"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// countingDirector counts the reconciliations that include one service.
type countingDirector struct {
	*opsDirector
	key ipvs.ServiceKey
	mu  sync.Mutex
	n   int
}

func (c *countingDirector) Reconcile(ctx context.Context, desired []ipvs.Desired) ([]ipvs.Op, error) {
	ops, err := c.opsDirector.Reconcile(ctx, desired)
	if slices.ContainsFunc(desired, func(d ipvs.Desired) bool { return d.Service.Key == c.key }) {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return ops, err
}

func (c *countingDirector) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// gatedBackends are HTTP real servers on 127.0.0.x sharing a port, whose
// answers wait until the test opens their gate: the monitors' first checks
// complete when the test says so.
type gatedBackends struct {
	port    string
	gate    chan struct{}
	mu      sync.Mutex
	healthy map[string]bool
}

func startGatedBackends(t *testing.T, ips ...string) *gatedBackends {
	t.Helper()
	g := &gatedBackends{gate: make(chan struct{}), healthy: map[string]bool{}}
	for _, ip := range ips {
		l, err := listenOn(ip, g.port)
		if err != nil {
			t.Fatalf("cannot bind %s: %v", ip, err)
		}
		g.port = strings.Split(l.Addr().String(), ":")[1]
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-g.gate
			g.mu.Lock()
			defer g.mu.Unlock()
			if !g.healthy[ip] {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}))
		s.Listener = l
		s.Start()
		t.Cleanup(s.Close)
	}
	t.Cleanup(func() { g.open(nil) })
	return g
}

// open sets which backends are healthy and lets every check through.
func (g *gatedBackends) open(healthy []string) {
	g.mu.Lock()
	for _, ip := range healthy {
		g.healthy[ip] = true
	}
	g.mu.Unlock()
	select {
	case <-g.gate:
	default:
		close(g.gate)
	}
}

// After a restart, a server keeps the state the kernel had until its
// first check completes: present at weight w (127.0.0.3 at 7 while the
// pool says 10), absent (127.0.0.4, dead, taken out by the previous run),
// weight 0 (127.0.0.5). Before that, nothing is written to IPVS; after it,
// IPVS follows the checks: the dead server is never added.
func TestRestartKeepsKernelStateUntilFirstCheck(t *testing.T) {
	g := startGatedBackends(t, "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
	port, _ := strconv.Atoi(g.port)
	dir := t.TempDir()
	conf := filepath.Join(dir, "pybal.conf")
	testutil.WriteAtomic(t, conf, `[global]
pool-poll-interval = 0.02

[a]
protocol = tcp
ip = 10.2.2.1
port = `+g.port+`
scheduler = wrr
config = file://`+dir+`/a
depool-threshold = .5
monitors = ["ProxyFetch"]
proxyfetch.url = ["http://web.example/"]
proxyfetch.interval = 0.05
proxyfetch.timeout = 60
`)
	testutil.WriteAtomic(t, filepath.Join(dir, "a"), line("127.0.0.2", 10, true)+line("127.0.0.3", 10, true)+line("127.0.0.4", 10, true)+
		line("127.0.0.5", 10, true))
	key := ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: uint16(port)}
	dest := func(a string, w uint32) ipvs.Destination {
		return ipvs.Destination{Addr: netip.MustParseAddr(a), Port: uint16(port), Weight: w, Forward: ipvs.DirectRoute}
	}
	// What the previous run left in the kernel.
	kernel := &countingDirector{opsDirector: newOpsDirector(), key: key}
	if _, err := kernel.opsDirector.Reconcile(context.Background(), []ipvs.Desired{{Service: ipvs.Service{Key: key, Scheduler: "wrr"},
		Destinations: []ipvs.Destination{dest("127.0.0.2", 10), dest("127.0.0.3", 7), dest("127.0.0.5", 0)}}}); err != nil {
		t.Fatal(err)
	}
	before := kernel.count()
	seeded := kernel.opsDirector.count()
	var logBuf testutil.SyncBuffer
	d, _ := runDaemon(t, Options{ConfigPath: conf, Director: kernel, Log: slog.New(slog.NewTextHandler(&logBuf, nil))})

	// Ready and reconciled, no check completed: the kernel is untouched.
	testutil.WaitFor(t, "the service reconciled", func() bool { return kernel.count() > before })
	if ops := kernel.opsDirector.since(seeded); len(ops) != 0 {
		t.Errorf("IPVS ops before any check completed: %v\n%s", ops, logBuf.String())
	}
	if got := states(d.Pools()[0]); got != "127.0.0.2 enabled/up/pooled adopted; 127.0.0.3 enabled/up/pooled adopted; "+
		"127.0.0.4 enabled/down/not pooled adopted; 127.0.0.5 enabled/down/not pooled adopted" {
		t.Errorf("before the first checks: %s", got)
	}

	// The checks complete: 127.0.0.4 is dead, the others are up.
	g.open([]string{"127.0.0.2", "127.0.0.3", "127.0.0.5"})
	testutil.WaitFor(t, "every first check", func() bool { return !strings.Contains(states(d.Pools()[0]), "adopted") })
	n := kernel.count()
	testutil.WaitFor(t, "two more reconciliations", func() bool { d.kick(); return kernel.count() >= n+2 })
	p := ":" + g.port
	want := []string{"-e -t 10.2.2.1" + p + " -r 127.0.0.3" + p + " -g -w 10", "-e -t 10.2.2.1" + p + " -r 127.0.0.5" + p + " -g -w 10"}
	if got := kernel.opsDirector.since(seeded); fmt.Sprint(sorted(got)) != fmt.Sprint(want) {
		t.Errorf("IPVS ops after the first checks: %v, want %v", got, want)
	}
	if got := states(d.Pools()[0]); got != "127.0.0.2 enabled/up/pooled; 127.0.0.3 enabled/up/pooled; "+
		"127.0.0.4 enabled/down/not pooled; 127.0.0.5 enabled/up/pooled" {
		t.Errorf("after the first checks: %s", got)
	}
	if !strings.Contains(logBuf.String(), "[a] Server 127.0.0.4 keeps its IPVS state (absent) until its first check") {
		t.Errorf("adoption not logged:\n%s", logBuf.String())
	}
}

// states renders a pool as "host state[ adopted]; ...".
func states(snap coordinator.Snapshot) string {
	var out []string
	for _, s := range snap.Servers {
		st := s.Host + " " + s.TextStatus()
		if s.Adopted {
			st += " adopted"
		}
		out = append(out, st)
	}
	return strings.Join(out, "; ")
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
