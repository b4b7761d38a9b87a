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
	"sync"
	"time"

	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/coordinator"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/monitor"
	"github.com/geotraffic/geotraffic/lvs/pool"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Daemon.
type Options struct {
	ConfigPath string
	Log        *slog.Logger
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
}

// Daemon is a running lvsd.
type Daemon struct {
	opts         Options
	log          *slog.Logger
	coordMetrics *coordinator.Metrics
	monMetrics   *monitor.Metrics
	director     ipvs.Director
	announcer    bgp.Announcer

	kickCh chan struct{}

	mu       sync.Mutex
	loaded   *Loaded
	services []*service // configuration order
	ctx      context.Context

	routesMu   sync.Mutex
	lastRoutes []bgp.Route
	routesSet  bool

	httpServers []*http.Server
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
	l, err := Load(opts.ConfigPath)
	if err != nil {
		return nil, err
	}
	d := &Daemon{opts: opts, log: opts.Log, director: opts.Director, kickCh: make(chan struct{}, 1), loaded: l}
	d.coordMetrics = coordinator.NewMetrics(opts.Registry)
	d.monMetrics = monitor.NewMetrics(opts.Registry)
	for _, w := range l.Warnings {
		d.log.Warn(w)
	}
	if l.Config.Global.BGP.Enabled && opts.NewAnnouncer != nil {
		a, err := opts.NewAnnouncer(l.Config.Global.BGP, opts.Log, opts.Registry)
		if err != nil {
			return nil, fmt.Errorf("bgp: %w", err)
		}
		d.announcer = a
	} else if l.Config.Global.BGP.Enabled {
		d.log.Warn("BGP is enabled in the configuration but disabled by --no-bgp")
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
	if err := d.startHTTP(); err != nil {
		return err
	}
	if d.announcer != nil {
		if err := d.announcer.Start(ctx); err != nil {
			d.stopHTTP()
			return fmt.Errorf("bgp: %w", err)
		}
	}
	svcCtx, cancelSvcs := context.WithCancel(context.WithoutCancel(ctx))
	d.mu.Lock()
	d.ctx = svcCtx
	for _, sc := range d.loaded.Config.Services {
		s := newService(d, sc, d.loaded.Monitors[sc.Name], d.loaded.Config.Global.DNSRefreshInterval)
		d.services = append(d.services, s)
		s.start(svcCtx)
	}
	resync := d.loaded.Config.Global.ResyncInterval
	d.mu.Unlock()
	d.log.Info("lvsd started", "config", d.opts.ConfigPath, "services", len(d.services))

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
	cancelSvcs()
	d.mu.Lock()
	for _, s := range d.services {
		s.stop()
	}
	d.mu.Unlock()
	var errs []error
	if d.announcer != nil {
		sctx, cancel := context.WithTimeout(context.Background(), d.opts.StopTimeout)
		if err := d.announcer.Stop(sctx); err != nil {
			errs = append(errs, fmt.Errorf("bgp stop: %w", err))
		}
		cancel()
	}
	d.stopHTTP()
	if err := d.director.Close(); err != nil {
		errs = append(errs, fmt.Errorf("ipvs close: %w", err))
	}
	d.log.Info("lvsd stopped")
	return errors.Join(errs...)
}

// reconcile pushes the desired state of every ready service to IPVS and
// the desired routes to BGP.
func (d *Daemon) reconcile(ctx context.Context) {
	d.mu.Lock()
	var desired []ipvs.Desired
	for _, s := range d.services {
		if s.ready.Load() {
			desired = append(desired, s.coord.Desired())
		}
	}
	routes := d.routesLocked()
	d.mu.Unlock()
	if len(desired) > 0 {
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
// service on it has a pooled, up server.
func (d *Daemon) routesLocked() []bgp.Route {
	type vip struct {
		med                         uint32
		withdraw, healthy, announce bool
	}
	vips := map[netip.Addr]*vip{}
	for _, s := range d.services {
		if !s.cfg.BGP {
			continue
		}
		v := vips[s.cfg.Key.Addr]
		if v == nil {
			v = &vip{med: s.cfg.BGPMED}
			vips[s.cfg.Key.Addr] = v
		}
		v.withdraw = v.withdraw || s.cfg.BGPWithdrawOnDown
		v.healthy = v.healthy || (s.ready.Load() && s.coord.HasPooledUp())
	}
	routes := []bgp.Route{}
	for a, v := range vips {
		if v.withdraw && !v.healthy {
			continue
		}
		routes = append(routes, bgp.Route{Prefix: netip.PrefixFrom(a, a.BitLen()), MED: v.med})
	}
	slices.SortFunc(routes, func(a, b bgp.Route) int { return a.Prefix.Addr().Compare(b.Prefix.Addr()) })
	return routes
}

// Reload re-reads pybal.conf. A bad file is refused whole (and the error
// returned); otherwise services are added, removed or restarted where
// their settings changed, and the others are not touched.
func (d *Daemon) Reload() error {
	l, err := Load(d.opts.ConfigPath)
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
	if fmt.Sprint(old.Global) != fmt.Sprint(l.Config.Global) {
		d.log.Warn("[global] changes (instrumentation, BGP, intervals) take effect at the next restart")
	}
	byName := map[string]*service{}
	for _, s := range d.services {
		byName[s.cfg.Name] = s
	}
	var next []*service
	var removedKeys []ipvs.ServiceKey
	kept := map[string]bool{}
	for _, sc := range l.Config.Services {
		if s, ok := byName[sc.Name]; ok && s.cfg.Equal(sc) && specsEqual(s.specs, l.Monitors[sc.Name]) {
			kept[sc.Name] = true
			next = append(next, s)
			continue
		}
		if s, ok := byName[sc.Name]; ok {
			kept[sc.Name] = true
			d.log.Info(fmt.Sprintf("[%s] Configuration changed, restarting the service", sc.Name))
			s.stop()
			if s.cfg.Key != sc.Key {
				removedKeys = append(removedKeys, s.cfg.Key)
			}
		} else {
			d.log.Info(fmt.Sprintf("[%s] New service %s", sc.Name, sc.Key))
		}
		s := newService(d, sc, l.Monitors[sc.Name], old.Global.DNSRefreshInterval)
		s.start(d.ctx)
		next = append(next, s)
	}
	for _, s := range d.services {
		if !kept[s.cfg.Name] {
			d.log.Info(fmt.Sprintf("[%s] Service removed from the configuration", s.cfg.Name))
			s.stop()
			removedKeys = append(removedKeys, s.cfg.Key)
		}
	}
	// A key still used by a (new) service must not be deleted.
	inUse := map[ipvs.ServiceKey]bool{}
	for _, s := range next {
		inUse[s.cfg.Key] = true
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
	// Keep the running [global] (it needs a restart) with the new services.
	l.Config.Global = old.Global
	d.loaded = l
	d.kick()
	d.log.Info("Configuration reloaded", "services", len(next))
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
	h := instrumentation.Handler(d, d.opts.Registry)
	for _, l := range listeners {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
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
