package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/geotraffic/geotraffic/internal/filewatch"
	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/coordinator"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/monitor"
	"github.com/geotraffic/geotraffic/lvs/pool"
	"github.com/geotraffic/geotraffic/lvs/webstatus"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Daemon.
type Options struct {
	ConfigPath string
	// Loaded, when set, is ConfigPath already loaded (lvsd validates it
	// before opening IPVS), so start-up does not read it again.
	Loaded *Loaded
	Log    *slog.Logger
	// Registry receives every metric; /metrics serves it.
	Registry *prometheus.Registry
	// Director programs IPVS (kernel or dry run); the daemon closes it.
	Director ipvs.Director
	// NewAnnouncer builds the BGP speaker when the config enables BGP;
	// nil disables BGP (--no-bgp).
	NewAnnouncer func(cfg bgp.Config, log *slog.Logger, reg prometheus.Registerer) (bgp.Announcer, error)
	// Lookup resolves host names; nil uses the system resolver.
	Lookup pool.Lookup
	// InstrumentationListeners, when set, replace the addresses from
	// pybal.conf (tests pass listeners on free ports).
	InstrumentationListeners []net.Listener
	// StopTimeout bounds the BGP withdrawal on shutdown; default 10 s.
	StopTimeout time.Duration
	// HTTPTimeouts bound the instrumentation API's connections; zero
	// fields take instrumentation.DefaultTimeouts'.
	HTTPTimeouts instrumentation.Timeouts
}

// Daemon is a running lvsd.
type Daemon struct {
	opts         Options
	log          *slog.Logger
	coordMetrics *coordinator.Metrics
	monMetrics   *monitor.Metrics
	refused      *prometheus.CounterVec // lvsd_pool_refused_documents_total
	director     ipvs.Director
	announcer    bgp.Announcer
	etcd         *etcdClients   // shared by the services' etcd pools
	files        *filewatch.Hub // inotify, shared by the services' file:// pools

	kickCh chan struct{}

	mu       sync.Mutex
	loaded   *Loaded
	services []*service // configuration order
	ctx      context.Context

	// unannounceable are the routes left out at the last computation
	// (logged once each); guarded by mu.
	unannounceable map[netip.Prefix]bool
	// keptLogged are the unattributed destinations kept at the last
	// reconciliation (logged once each); used by the Run loop only.
	keptLogged map[string]bool

	routesMu   sync.Mutex
	lastRoutes []bgp.Route
	routesSet  bool

	httpServers []*http.Server
	control     *http.Server // the control socket's; nil when it could not open
	controlPath string

	// manual is the manual depools (control.go) as in the state file.
	manualMu sync.Mutex
	manual   coordinator.ManualState
}

// New loads the configuration (a bad file is an error) and prepares the
// daemon; Run starts it.
func New(opts Options) (*Daemon, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = 10 * time.Second
	}
	if opts.Director == nil {
		return nil, errors.New("daemon: no IPVS director")
	}
	l := opts.Loaded
	if l == nil {
		var err error
		if l, err = Load(opts.ConfigPath); err != nil {
			return nil, err
		}
	}
	d := &Daemon{opts: opts, log: opts.Log, director: opts.Director, kickCh: make(chan struct{}, 1), loaded: l, etcd: newEtcdClients(),
		files: &filewatch.Hub{}}
	d.coordMetrics = coordinator.NewMetrics(opts.Registry)
	d.monMetrics = monitor.NewMetrics(opts.Registry)
	d.refused = newRefusedCounter(opts.Registry)
	if err := instrumentation.RegisterDrift(opts.Registry, d.Drift); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	for _, w := range l.Warnings {
		d.log.Warn(w)
	}
	if l.Config.Global.BGP.Enabled && opts.NewAnnouncer != nil {
		a, err := opts.NewAnnouncer(l.Config.Global.BGP, opts.Log, opts.Registry)
		if err != nil {
			return nil, fmt.Errorf("bgp: %w", err)
		}
		d.announcer = a
	} else {
		if l.Config.Global.BGP.Enabled {
			d.log.Warn("BGP is enabled in the configuration but disabled by --no-bgp")
		}
		if err := bgp.RegisterDisabled(opts.Registry); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *Daemon) kick() {
	select {
	case d.kickCh <- struct{}{}:
	default:
	}
}

// Run runs until ctx ends, then stops: monitors end, BGP routes are
// withdrawn (bounded by StopTimeout), IPVS is left as it is so that
// forwarding continues and a restart adopts it.
func (d *Daemon) Run(ctx context.Context) error {
	if err := d.loadManual(); err != nil {
		return err
	}
	// The services exist before the API and the control socket serve:
	// /alerts must not say OK, nor /pools list nothing, for a daemon
	// that has not yet started what they report on.
	cancelSvcs, resync, started := d.startServices(ctx)
	if err := d.startHTTP(); err != nil {
		d.stopServices(cancelSvcs)
		return err
	}
	d.startControl()
	if d.announcer != nil {
		if err := d.announcer.Start(ctx); err != nil {
			d.stopHTTP()
			d.stopControl()
			d.stopServices(cancelSvcs)
			return fmt.Errorf("bgp: %w", err)
		}
	}
	d.log.Info("lvsd started", "config", d.opts.ConfigPath, "services", started)

	ticker := time.NewTicker(resync)
	defer ticker.Stop()
	d.kick()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-d.kickCh:
		case <-ticker.C:
		}
		d.reconcile(ctx)
	}
	d.log.Info("lvsd stopping")
	d.stopServices(cancelSvcs)
	d.files.Close()
	var errs []error
	if d.announcer != nil {
		sctx, cancel := context.WithTimeout(context.Background(), d.opts.StopTimeout)
		if err := d.announcer.Stop(sctx); err != nil {
			errs = append(errs, fmt.Errorf("bgp stop: %w", err))
		}
		cancel()
	}
	d.stopHTTP()
	d.stopControl()
	if err := d.director.Close(); err != nil {
		errs = append(errs, fmt.Errorf("ipvs close: %w", err))
	}
	d.log.Info("lvsd stopped")
	return errors.Join(errs...)
}

// startServices creates and starts every configured service, each
// adopting the destinations IPVS already has for it. The services run
// until the returned cancel (through stopServices), not until ctx ends, so
// that shutdown can stop them in order. It returns the resync interval
// and the number of services, read under the lock that reloads take.
func (d *Daemon) startServices(ctx context.Context) (cancel context.CancelFunc, resync time.Duration, started int) {
	svcCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	kernel := d.kernelDestinations(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ctx = svcCtx
	for _, sc := range d.loaded.Config.Services {
		s := newService(d, sc, d.loaded.Monitors[sc.Name], d.loaded.Config.Global.DNSRefreshInterval, d.loaded)
		if dests, ok := kernel[sc.Key]; ok {
			s.coord.Adopt(dests)
		}
		d.services = append(d.services, s)
		s.start(svcCtx)
	}
	return cancel, d.loaded.Config.Global.ResyncInterval, len(d.services)
}

// stopServices ends what startServices started and waits for it.
func (d *Daemon) stopServices(cancel context.CancelFunc) {
	cancel()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.services {
		s.stop()
	}
}

// reconcile pushes the desired state of every ready service to IPVS and
// the desired routes to BGP. It runs on the Run loop only.
func (d *Daemon) reconcile(ctx context.Context) {
	d.mu.Lock()
	var desired []ipvs.Desired
	var unresolved []pendingHosts
	for _, s := range d.services {
		if !s.ready.Load() {
			continue
		}
		snap := s.coord.Snapshot()
		desired = append(desired, s.coord.Desired())
		if p := pendingOf(snap, s.cfg()); len(p.hosts) > 0 {
			p.index = len(desired) - 1
			unresolved = append(unresolved, p)
		}
	}
	routes := d.routesLocked()
	d.mu.Unlock()
	if len(desired) > 0 {
		d.keepUnattributed(ctx, desired, unresolved)
		if _, err := d.director.Reconcile(ctx, desired); err != nil && ctx.Err() == nil {
			d.log.Error("IPVS reconciliation failed, retrying in 1 s", "err", err)
			time.AfterFunc(time.Second, d.kick)
		}
	}
	if d.announcer != nil {
		d.routesMu.Lock()
		defer d.routesMu.Unlock()
		if d.routesSet && slices.Equal(routes, d.lastRoutes) {
			return
		}
		if err := d.announcer.SetRoutes(ctx, routes); err != nil {
			if ctx.Err() == nil {
				d.log.Error("BGP route update failed", "err", err)
			}
			return
		}
		d.lastRoutes, d.routesSet = routes, true
	}
}

// routesLocked computes the BGP routes: each VIP with a bgp=yes service,
// with its MED; with bgp-withdraw-on-down a VIP is left out while no
// service on it has a pooled, up server. A route the running BGP
// configuration cannot announce (no next hop of its family) is left out
// and logged once, so it cannot hold back the others.
func (d *Daemon) routesLocked() []bgp.Route {
	type vip struct {
		med                         uint32
		withdraw, healthy, announce bool
	}
	vips := map[netip.Addr]*vip{}
	for _, s := range d.services {
		sc := s.cfg()
		if !sc.BGP {
			continue
		}
		v := vips[sc.Key.Addr]
		if v == nil {
			v = &vip{med: sc.BGPMED}
			vips[sc.Key.Addr] = v
		}
		v.withdraw = v.withdraw || sc.BGPWithdrawOnDown
		v.healthy = v.healthy || (s.ready.Load() && s.coord.HasPooledUp())
	}
	routes := []bgp.Route{}
	bad := map[netip.Prefix]bool{}
	for a, v := range vips {
		if v.withdraw && !v.healthy {
			continue
		}
		r := bgp.Route{Prefix: netip.PrefixFrom(a, a.BitLen()), MED: v.med}
		if err := d.loaded.Config.Global.BGP.CheckRoutes([]bgp.Route{r}); err != nil {
			bad[r.Prefix] = true
			if !d.unannounceable[r.Prefix] {
				d.log.Error("BGP route left out: the running configuration cannot announce it", "err", err)
			}
			continue
		}
		routes = append(routes, r)
	}
	d.unannounceable = bad
	slices.SortFunc(routes, func(a, b bgp.Route) int { return a.Prefix.Addr().Compare(b.Prefix.Addr()) })
	return routes
}

// Reload re-reads pybal.conf. A bad file is refused whole (and the error
// returned); otherwise services are added or removed, and a changed
// service is updated without losing any server's state: settings the
// running goroutines do not use (threshold, drain, scheduler, forwarding,
// BGP keys) in place, others by restarting its pool watcher, resolution and
// monitors around the same coordinator. Unchanged services are not touched.
func (d *Daemon) Reload() error {
	l, err := Load(d.opts.ConfigPath)
	if err == nil {
		err = d.checkAgainstRunning(l)
	}
	if err != nil {
		d.log.Error("Configuration reload refused, keeping the running configuration", "err", err)
		return err
	}
	for _, w := range l.Warnings {
		d.log.Warn(w)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx == nil {
		err := errors.New("reload before the daemon started; ignored")
		d.log.Error(err.Error())
		return err
	}
	old := d.loaded.Config
	for _, msg := range globalChanges(old.Global, l.Config.Global) {
		d.log.Warn(msg)
	}
	byName := map[string]*service{}
	for _, s := range d.services {
		byName[s.cfg().Name] = s
	}
	var next []*service
	var removedKeys []ipvs.ServiceKey
	kept := map[string]bool{}
	for _, sc := range l.Config.Services {
		specs := l.Monitors[sc.Name]
		s, ok := byName[sc.Name]
		if !ok {
			d.log.Info(fmt.Sprintf("[%s] New service %s", sc.Name, sc.Key))
			s := newService(d, sc, specs, old.Global.DNSRefreshInterval, l)
			s.start(d.ctx)
			next = append(next, s)
			continue
		}
		kept[sc.Name] = true
		cur := s.cfg()
		changed, restart := changedKeys(cur, sc, s.specs, specs), needsRestart(cur, sc, s.specs, specs)
		if sc.IsEtcd() && cur.IsEtcd() && s.etcdConf.Fingerprint != l.Etcd.Fingerprint {
			changed, restart = append(changed, "[global] etcd-*"), true
		}
		if poolCAChanged(s, sc, l) {
			changed, restart = append(changed, "[global] pool-ca-file"), true
		}
		switch {
		case len(changed) == 0:
			next = append(next, s)
		case !restart:
			d.log.Info(fmt.Sprintf("[%s] Configuration changed (%s), applied in place", sc.Name, strings.Join(changed, ", ")))
			s.reconfigure(sc)
			next = append(next, s)
		default:
			d.log.Info(fmt.Sprintf("[%s] Configuration changed (%s), restarting its pool watcher and monitors; server states are kept",
				sc.Name, strings.Join(changed, ", ")))
			s.halt()
			if cur.Key != sc.Key {
				removedKeys = append(removedKeys, cur.Key)
			}
			n := s.successor(sc, specs, l)
			n.start(d.ctx)
			next = append(next, n)
		}
	}
	for _, s := range d.services {
		if !kept[s.cfg().Name] {
			d.log.Info(fmt.Sprintf("[%s] Service removed from the configuration", s.cfg().Name))
			s.stop()
			removedKeys = append(removedKeys, s.cfg().Key)
		}
	}
	// A key still used by a (new) service must not be deleted.
	inUse := map[ipvs.ServiceKey]bool{}
	for _, s := range next {
		inUse[s.cfg().Key] = true
	}
	for _, k := range removedKeys {
		if inUse[k] {
			continue
		}
		if err := d.director.RemoveService(d.ctx, k); err != nil {
			d.log.Error("IPVS service removal failed", "service", k.String(), "err", err)
		}
	}
	d.services = next
	// Keep the running [global] (most of it needs a restart) with the new
	// services; their global-derived defaults are already applied, and so
	// are the etcd client settings (the etcd services restarted above).
	etcdSettings, poolCA, poolCAPos := l.Config.Global.Etcd, l.Config.Global.PoolCAFile, l.Config.Global.PoolCAFilePos
	l.Config.Global = old.Global
	l.Config.Global.Etcd = etcdSettings
	l.Config.Global.PoolCAFile, l.Config.Global.PoolCAFilePos = poolCA, poolCAPos
	d.loaded = l
	d.kick()
	d.log.Info("Configuration reloaded", "services", len(next))
	return nil
}

// checkAgainstRunning refuses a file whose services the running [global]
// cannot serve: BGP keeps the running session settings until a restart,
// so a VIP of a family without a running bgp-nexthop-* could never be
// announced.
func (d *Daemon) checkAgainstRunning(l *Loaded) error {
	if d.announcer == nil {
		return nil
	}
	d.mu.Lock()
	running := d.loaded.Config.Global.BGP
	d.mu.Unlock()
	for _, sc := range l.Config.Services {
		if !sc.BGP {
			continue
		}
		r := bgp.Route{Prefix: netip.PrefixFrom(sc.Key.Addr, sc.Key.Addr.BitLen())}
		if err := running.CheckRoutes([]bgp.Route{r}); err != nil {
			return sc.IPPos.Errorf("ip", "service [%s] announces %s but the running BGP configuration cannot (%v); "+
				"[global] BGP changes need a restart", sc.Name, sc.Key.Addr, err)
		}
	}
	return nil
}

// specsEqual compares monitor settings (specs are pointers to plain
// option structs, so DeepEqual compares the values).
func specsEqual(a, b []monitor.Spec) bool { return reflect.DeepEqual(a, b) }

// Pools implements instrumentation.State.
func (d *Daemon) Pools() []coordinator.Snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]coordinator.Snapshot, 0, len(d.services))
	for _, s := range d.services {
		out = append(out, s.coord.Snapshot())
	}
	return out
}

// Announcer implements instrumentation.State.
func (d *Daemon) Announcer() bgp.Announcer { return d.announcer }

// IPVSStatus implements instrumentation.State.
func (d *Daemon) IPVSStatus(ctx context.Context) ([]ipvs.ServiceStatus, error) {
	return d.director.Status(ctx)
}

// Drift implements instrumentation.DriftState: the Director's drift
// repairs (none from a Director that does not report them).
func (d *Daemon) Drift() ipvs.DriftReport {
	if r, ok := d.director.(ipvs.DriftReporter); ok {
		return r.Drift()
	}
	return ipvs.DriftReport{Total: map[ipvs.OpKind]uint64{}}
}

// Config returns the running configuration.
func (d *Daemon) Config() *config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.loaded.Config
}

func (d *Daemon) startHTTP() error {
	g := d.loaded.Config.Global
	listeners := d.opts.InstrumentationListeners
	if listeners == nil && g.Instrumentation {
		for _, ip := range g.InstrumentationIPs {
			addr := net.JoinHostPort(ip.String(), strconv.Itoa(int(g.InstrumentationPort)))
			l, err := net.Listen("tcp", addr)
			if err != nil {
				for _, l := range listeners {
					l.Close()
				}
				return fmt.Errorf("instrumentation: %w", err)
			}
			listeners = append(listeners, l)
		}
	}
	h := d.guardHTTP(webstatus.Handler(d, d.opts.Registry))
	for _, l := range listeners {
		srv := instrumentation.NewServer(h, d.opts.HTTPTimeouts)
		d.httpServers = append(d.httpServers, srv)
		go srv.Serve(l)
		d.log.Info("Instrumentation API listening", "addr", l.Addr().String())
	}
	return nil
}

func (d *Daemon) stopHTTP() {
	for _, s := range d.httpServers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s.Shutdown(ctx)
		cancel()
	}
}
