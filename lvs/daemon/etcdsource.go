package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
	"github.com/geotraffic/geotraffic/lvs/pool"
)

// etcdSource follows one service's etcd prefix with an etcdstore.Watcher
// and feeds each new pool to the service, the path file and HTTP pools
// take, so the depool threshold applies to every change.
type etcdSource struct {
	url     string // as pybal.conf writes it, for messages
	u       pool.EtcdURL
	log     *slog.Logger
	started time.Time

	watcher atomic.Pointer[etcdstore.Watcher] // nil until the client exists

	mu      sync.Mutex
	applied bool      // a pool of this source reached the service
	last    pool.Pool // that pool
	held    string    // why the current view is not applied ("" when it is)
}

func newEtcdSource(sc *config.Service, log *slog.Logger) *etcdSource {
	return &etcdSource{url: sc.PoolURL, u: sc.Etcd, log: log, started: time.Now()}
}

// register registers the source's metrics, which exist from the start
// and read 0 until the watcher does; the returned func unregisters them.
func (e *etcdSource) register(reg prometheus.Registerer, service string) (unregister func()) {
	collectors := etcdstore.Collectors("lvsd", prometheus.Labels{"service": service}, e)
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			e.log.Error("etcd metrics not registered", "err", err)
		}
	}
	return func() {
		for _, c := range collectors {
			reg.Unregister(c)
		}
	}
}

// run creates (or shares) the client, then watches until ctx ends.
func (e *etcdSource) run(ctx context.Context, d *Daemon, cc EtcdClient, service string, feed func(pool.Pool)) {
	log := e.log.With("service", service)
	cli, release := d.etcd.acquire(ctx, cc.For(e.u.Endpoints, e.u.TLS), cc.Fingerprint, log)
	if cli == nil {
		return
	}
	defer release()
	w := etcdstore.NewWatcher(cli, etcdstore.Options{Layout: e.u.Layout, Prefix: e.u.Prefix, Log: log,
		OnUpdate: func(v etcdstore.View) { e.onView(v, service, feed) }})
	e.watcher.Store(w)
	w.Run(ctx)
}

// onView turns a view into the pool and feeds it, unless viewDecision
// holds it back.
func (e *etcdSource) onView(v etcdstore.View, service string, feed func(pool.Pool)) {
	p, bad := pool.FromNodes(v.Objects)
	for _, err := range bad { // the watcher validated them: cannot happen
		e.log.Error(fmt.Sprintf("[%s] etcd node ignored: %v", service, err))
	}
	e.mu.Lock()
	apply, held := viewDecision(e.applied, len(e.last), v.Listed, len(p))
	changed := apply && (!e.applied || !p.Equal(e.last))
	if held != "" && held != e.held {
		e.log.Warn(fmt.Sprintf("[%s] etcd source %s %s", service, e.url, held), "revision", v.Revision)
	}
	e.held = held
	if apply {
		e.applied, e.last = true, p
	}
	e.mu.Unlock()
	if changed {
		feed(p)
	}
}

// viewDecision says whether a view's pool (of n servers) is applied, and
// why not. An empty first view is not: a prefix with no node gives an
// empty pool, as in PyBal (which never configures such a service), and the
// service is left as it is in IPVS rather than emptied by a typo in the
// URL or a restart against an empty etcd. Later, deletes seen one by one
// are real changes, down to nothing (PyBal's behaviour); but a full read
// (after an outage or a compaction) that finds nothing where there were
// servers is not trusted to empty the service: a wiped or restored etcd
// looks like that. PyBal never removed a host on a full read at all.
func viewDecision(applied bool, last int, listed bool, n int) (apply bool, held string) {
	switch {
	case n > 0:
		return true, ""
	case !applied:
		return false, "has no node with pooled yes or no; the service is left as it is in IPVS until one appears"
	case listed && last > 0:
		return false, fmt.Sprintf("read again after an outage or a compaction has no node with pooled yes or no, "+
			"where there were %d; keeping the last pool", last)
	}
	return true, ""
}

// The etcdstore.WatcherState of the metrics: the watcher's, or "not
// connected, nothing applied" until it exists.

func (e *etcdSource) Connected() bool {
	if w := e.watcher.Load(); w != nil {
		return w.Connected()
	}
	return false
}

func (e *etcdSource) Revision() int64 {
	if w := e.watcher.Load(); w != nil {
		return w.Revision()
	}
	return 0
}

func (e *etcdSource) Relists() int64 {
	if w := e.watcher.Load(); w != nil {
		return w.Relists()
	}
	return 0
}

func (e *etcdSource) Rejected() int64 {
	if w := e.watcher.Load(); w != nil {
		return w.Rejected()
	}
	return 0
}

// alert says what is wrong with the source ("" when nothing is), for
// /alerts: "Pool SERVICE: " goes before it.
func (e *etcdSource) alert(now time.Time) string {
	var parts []string
	w := e.watcher.Load()
	connected, since := false, e.started
	if w != nil {
		connected, since = w.State()
	}
	if !connected {
		what := fmt.Sprintf("etcd source %s unreachable for %s", e.url, now.Sub(since).Round(time.Second))
		if w == nil || w.Revision() == 0 {
			what += " since start; no pool from it yet, the service is left as it is in IPVS"
		} else {
			what += fmt.Sprintf("; keeping the last pool (revision %d)", w.Revision())
		}
		parts = append(parts, what)
	}
	if w != nil {
		if hosts := invalidHosts(w.Invalid()); len(hosts) > 0 {
			parts = append(parts, fmt.Sprintf("etcd source %s: %d value(s) that do not parse ignored, each node keeps its last good state: %s",
				e.url, len(hosts), strings.Join(hosts, ", ")))
		}
	}
	e.mu.Lock()
	if e.held != "" {
		parts = append(parts, "etcd source "+e.url+" "+e.held)
	}
	e.mu.Unlock()
	return strings.Join(parts, "; ")
}

// invalidHosts names the nodes of the invalid keys (the key's last element).
func invalidHosts(invalid map[string]string) []string {
	out := make([]string, 0, len(invalid))
	for k := range invalid {
		out = append(out, k[strings.LastIndex(k, "/")+1:])
	}
	sort.Strings(out)
	return out
}

// /alerts names the pool sources' problems only for a State that is also a
// SourceState; checked here so the daemon cannot silently stop being one.
var _ instrumentation.SourceState = (*Daemon)(nil)

// PoolSourceAlerts implements instrumentation.SourceState: by service,
// what is wrong with its etcd pool source (unreachable and for how long,
// values ignored, no nodes).
func (d *Daemon) PoolSourceAlerts() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	out := map[string]string{}
	for _, s := range d.services {
		if e := s.etcd.Load(); e != nil {
			if msg := e.alert(now); msg != "" {
				out[s.cfg().Name] = msg
			}
		}
	}
	return out
}
