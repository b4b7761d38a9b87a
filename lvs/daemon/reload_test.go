package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// opsDirector is the dry-run IPVS recording every op it applied.
type opsDirector struct {
	ipvs.Director
	mu  sync.Mutex
	ops []string
}

func newOpsDirector() *opsDirector { return &opsDirector{Director: ipvs.NewDryRun(nil)} }

func (o *opsDirector) Reconcile(ctx context.Context, desired []ipvs.Desired) ([]ipvs.Op, error) {
	ops, err := o.Director.Reconcile(ctx, desired)
	o.mu.Lock()
	for _, op := range ops {
		o.ops = append(o.ops, op.String())
	}
	o.mu.Unlock()
	return ops, err
}

func (o *opsDirector) since(n int) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.ops[n:]...)
}

func (o *opsDirector) count() int { o.mu.Lock(); defer o.mu.Unlock(); return len(o.ops) }

// historyAnnouncer records every SetRoutes call.
type historyAnnouncer struct {
	fakeAnnouncer
	hmu     sync.Mutex
	history []string
}

func (a *historyAnnouncer) SetRoutes(ctx context.Context, r []bgp.Route) error {
	var ps []string
	for _, x := range r {
		ps = append(ps, x.Prefix.String())
	}
	a.hmu.Lock()
	a.history = append(a.history, strings.Join(ps, " "))
	a.hmu.Unlock()
	return a.fakeAnnouncer.SetRoutes(ctx, r)
}

func (a *historyAnnouncer) since(n int) []string {
	a.hmu.Lock()
	defer a.hmu.Unlock()
	return append([]string(nil), a.history[n:]...)
}

func (a *historyAnnouncer) count() int { a.hmu.Lock(); defer a.hmu.Unlock(); return len(a.history) }

const reloadConf = `[global]
pool-poll-interval = 0.02
bgp = yes
bgp-local-asn = 64600
bgp-peer-address = 127.0.0.1
bgp-nexthop-ipv4 = 127.0.0.1
bgp-withdraw-on-down = yes

[web]
protocol = tcp
ip = 10.2.2.1
port = 80
scheduler = wrr
config = file://DIR/web
depool-threshold = THRESHOLD
monitors = ["RunCommand"]
runcommand.command = /usr/bin/test
runcommand.arguments = [server.host, "=", "127.0.0.2"]
runcommand.interval = INTERVAL
`

type reloadHarness struct {
	dir, conf string
	ipvs      *opsDirector
	ann       *historyAnnouncer
	reg       *prometheus.Registry
	d         *Daemon
}

func startReloadDaemon(t *testing.T, conf string, ipvsDir *opsDirector) *reloadHarness {
	t.Helper()
	h := &reloadHarness{dir: t.TempDir(), ipvs: ipvsDir, ann: &historyAnnouncer{}, reg: prometheus.NewRegistry()}
	h.conf = filepath.Join(h.dir, "pybal.conf")
	h.write(t, conf)
	h.d, _ = runDaemon(t, Options{ConfigPath: h.conf, Director: h.ipvs, Registry: h.reg,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		NewAnnouncer: func(bgp.Config, *slog.Logger, prometheus.Registerer) (bgp.Announcer, error) {
			return h.ann, nil
		}})
	return h
}

func (h *reloadHarness) write(t *testing.T, conf string) {
	testutil.WriteAtomic(t, h.conf, strings.ReplaceAll(conf, "DIR", h.dir))
}

// counter sums a counter family's series whose labels include want.
func counter(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for k, v := range want {
				if !hasLabel(m, k, v) {
					continue metrics
				}
			}
			if m.Counter != nil {
				sum += m.Counter.GetValue()
			} else {
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}

// A reload that changes a service keeps every server's state: a server
// known to be down is not re-pooled (no -a op) and, with
// bgp-withdraw-on-down, the VIP is not withdrawn while the service
// restarts — for a change applied in place (depool-threshold) and for one
// that restarts the monitors (their interval).
func TestReloadKeepsServerState(t *testing.T) {
	mk := func(threshold, interval string) string {
		return strings.NewReplacer("THRESHOLD", threshold, "INTERVAL", interval).Replace(reloadConf)
	}
	h := startReloadDaemon(t, mk(".5", "0.05"), newOpsDirector())
	testutil.WriteAtomic(t, filepath.Join(h.dir, "web"), line("127.0.0.2", 10, true)+line("127.0.0.3", 10, true))
	testutil.WaitFor(t, "127.0.0.3 depooled", func() bool {
		p := h.d.Pools()
		if len(p) == 0 {
			return false // Run has not started the services yet
		}
		s := p[0]
		return len(s.Servers) == 2 && s.Servers[1].Ready && !s.Servers[1].Up && !s.Servers[1].Pooled
	})
	// The pool state says "not pooled" before the reconciler has issued the
	// -d; the steps below count ops from here, so wait for it to settle.
	testutil.WaitFor(t, "127.0.0.3 out of IPVS", func() bool {
		last := ""
		for _, op := range h.ipvs.since(0) {
			if strings.Contains(op, "127.0.0.3") {
				last = op
			}
		}
		return last == "" || strings.HasPrefix(last, "-d")
	})
	testutil.WaitFor(t, "route", func() bool { return h.ann.prefixes() == "10.2.2.1/0" })
	down := map[string]string{"service": "web", "host": "127.0.0.3"}
	for _, step := range []struct{ name, conf string }{
		{"threshold changed in place", mk(".4", "0.05")},
		{"monitor interval changed", mk(".4", "0.06")},
		{"both changed", mk(".5", "0.05")},
	} {
		t.Run(step.name, func(t *testing.T) {
			ops, routes := h.ipvs.count(), h.ann.count()
			checks := counter(t, h.reg, "pybal_monitor_down_results_total", down)
			h.write(t, step.conf)
			if err := h.d.Reload(); err != nil {
				t.Fatal(err)
			}
			// The restarted monitors have checked the down server twice.
			testutil.WaitFor(t, "two more checks", func() bool {
				return counter(t, h.reg, "pybal_monitor_down_results_total", down) >= checks+2
			})
			for _, op := range h.ipvs.since(ops) {
				if strings.HasPrefix(op, "-a") || strings.Contains(op, "127.0.0.3") {
					t.Errorf("IPVS op after reload: %s", op)
				}
			}
			for _, r := range h.ann.since(routes) {
				if r != "10.2.2.1/32" {
					t.Errorf("SetRoutes(%q) after reload: the VIP was withdrawn", r)
				}
			}
			if s := h.d.Pools()[0].Servers[1]; s.Pooled || s.Up {
				t.Errorf("127.0.0.3 after reload: %s", s.TextStatus())
			}
		})
	}
	if got := fmt.Sprint(h.d.Pools()[0].DepoolThreshold); got != "0.5" {
		t.Errorf("threshold not applied: %s", got)
	}
}
