package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/coordinator"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/monitor"
	"github.com/geotraffic/geotraffic/lvs/pool"
)

// service runs one LVS service: pool watcher, per-server resolution and
// monitors, and its coordinator.
type service struct {
	conf     atomic.Pointer[config.Service] // swapped in place by reload
	specs    []monitor.Spec
	coord    *coordinator.Coordinator
	dampers  *dampers
	d        *Daemon
	log      *slog.Logger
	dnsEvery time.Duration
	// etcdConf is the etcd client configuration this service runs with
	// (used when its pool comes from etcd); etcd is its running source.
	etcdConf EtcdClient
	etcd     atomic.Pointer[etcdSource]
	poolTLS  PoolTLS // how an https:// source is verified
	// refusal is why the polled source's current document is refused
	// (nil while it is accepted).
	refusal atomic.Pointer[string]

	// ready is set once the first pool has been applied and every initial
	// host had one resolution attempt; until then the service is left out
	// of reconciliation, so a restart never depools what the kernel has.
	// A service restarted by reload inherits it.
	ready atomic.Bool

	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	servers map[string]context.CancelFunc // host → its goroutines
}

func newService(d *Daemon, sc *config.Service, specs []monitor.Spec, dnsEvery time.Duration, l *Loaded) *service {
	s := &service{specs: specs, d: d, log: d.log, dnsEvery: dnsEvery, etcdConf: l.Etcd, poolTLS: l.PoolTLS,
		servers: map[string]context.CancelFunc{}, dampers: newDampers()}
	s.conf.Store(sc)
	s.coord = coordinator.New(settingsOf(sc, specs), d.log, d.coordMetrics, d.kick)
	s.coord.RestoreManual(d.manualFor(sc.Name))
	return s
}

// successor is the service that replaces s (already halted) after a
// reload changed settings that its goroutines use: it keeps s's
// coordinator, dampers and readiness, so every server keeps its state.
func (s *service) successor(sc *config.Service, specs []monitor.Spec, l *Loaded) *service {
	old := s.cfg()
	n := &service{specs: specs, coord: s.coord, dampers: s.dampers, d: s.d, log: s.log, dnsEvery: s.dnsEvery, etcdConf: l.Etcd,
		poolTLS: l.PoolTLS, servers: map[string]context.CancelFunc{}}
	n.conf.Store(sc)
	n.ready.Store(s.ready.Load())
	n.dampers.retune(s.specs, specs, old.Rise, old.Fall, sc.Rise, sc.Fall)
	n.coord.Reconfigure(settingsOf(sc, specs))
	return n
}

// reconfigure applies settings that need no goroutine restart.
func (s *service) reconfigure(sc *config.Service) {
	s.conf.Store(sc)
	s.coord.Reconfigure(settingsOf(sc, s.specs))
}

func (s *service) cfg() *config.Service { return s.conf.Load() }

func settingsOf(sc *config.Service, specs []monitor.Spec) coordinator.Settings {
	names := make([]string, 0, len(specs))
	for _, s := range specs {
		names = append(names, s.Name())
	}
	return coordinator.Settings{
		Name: sc.Name,
		Service: ipvs.Service{Key: sc.Key, Scheduler: sc.Scheduler, OnePacket: sc.OnePacket,
			MHPort: sc.MHPort, MHFallback: sc.MHFallback},
		Port: sc.CheckPort(), Forward: sc.Forwarding, DepoolThreshold: sc.DepoolThreshold,
		DrainOnDepool: sc.DrainOnDepool, Monitors: names,
	}
}

// start runs the service's pool source (polled, or watched in etcd),
// feeding the coordinator, and its servers' resolution and monitors.
func (s *service) start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	sc := s.cfg()
	var src pool.Source
	if !sc.IsEtcd() {
		var err error
		if src, err = s.newPolledSource(); err != nil {
			s.log.Error(fmt.Sprintf("[%s] %v; the service is left as it is in IPVS", sc.Name, err))
			return
		}
	}
	f := &feed{s: s, ctx: ctx, first: !s.ready.Load()}
	s.coord.OnForget(s.forget)
	// Servers carried over from the service this one replaces run from
	// their known address at once.
	s.mu.Lock()
	for _, srv := range s.coord.Snapshot().Servers {
		s.startServer(ctx, srv.Host, &f.initial)
	}
	s.mu.Unlock()
	s.wg.Add(1)
	if sc.IsEtcd() {
		e := newEtcdSource(sc, s.log)
		s.etcd.Store(e)
		unregister := e.register(s.d.opts.Registry, sc.Name)
		go func() {
			defer s.wg.Done()
			defer unregister()
			e.run(ctx, s.d, s.etcdConf, sc.Name, f.apply)
		}()
		return
	}
	go func() {
		defer s.wg.Done()
		s.watchPolled(ctx, src, f.apply)
	}()
}

// feed applies a service's pools, from one goroutine: the coordinator's
// update, then the added servers' resolution and monitors started and the
// removed ones' stopped. After the first pool, once every initial host had
// one resolution attempt, the service is ready (reconciled).
type feed struct {
	s       *service
	ctx     context.Context
	initial sync.WaitGroup
	first   bool
}

func (f *feed) apply(p pool.Pool) {
	s, sc := f.s, f.s.cfg()
	added, removed := s.coord.UpdatePool(p)
	s.forget(removed)
	s.mu.Lock()
	for _, h := range added {
		s.startServer(f.ctx, h, &f.initial)
	}
	s.mu.Unlock()
	if !f.first {
		return
	}
	f.first = false
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f.initial.Wait()
		if f.ctx.Err() == nil {
			s.ready.Store(true)
			s.log.Info(fmt.Sprintf("[%s] Initialization complete", sc.Name))
			s.d.kick()
		}
	}()
}

// startServer starts host's resolution and monitors; s.mu is held.
func (s *service) startServer(ctx context.Context, host string, initial *sync.WaitGroup) {
	if _, ok := s.servers[host]; ok {
		return
	}
	hctx, cancel := context.WithCancel(ctx)
	s.servers[host] = cancel
	initial.Add(1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runServer(hctx, host, initial.Done)
	}()
}

// halt ends every goroutine of the service and waits for them; the
// coordinator and its metrics stay (a successor may take them over).
func (s *service) halt() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

// stop halts the service for good and drops its metric series.
func (s *service) stop() {
	s.halt()
	s.coord.Close()
	s.d.refused.DeleteLabelValues(s.cfg().Name)
}

// runServer resolves a host (retrying until it resolves, then
// re-resolving periodically) and runs its monitors against the current
// address. firstDone is called after the first resolution attempt. A host
// carried over by reload starts from its known address.
func (s *service) runServer(ctx context.Context, host string, firstDone func()) {
	var (
		addr       netip.Addr
		mons       monitorSet
		retryDelay = time.Second
	)
	defer mons.stop()
	if srv, ok := s.coord.Server(host); ok && srv.Ready {
		addr = srv.Addr
		mons.start(ctx, func(mctx context.Context, wg *sync.WaitGroup) { s.startMonitors(mctx, wg, host, addr) })
	}
	family := s.cfg().Key.Addr
	for attempt := 0; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		a, err := pool.Resolve(rctx, s.d.opts.Lookup, host, family, addr)
		cancel()
		if ctx.Err() != nil {
			if attempt == 0 {
				firstDone()
			}
			return
		}
		wait := s.dnsEvery
		if err != nil {
			s.coord.SetUnresolved(host, err)
			if !addr.IsValid() {
				// Never resolved: retry sooner, backing off to the refresh interval.
				wait, retryDelay = retryDelay, min(retryDelay*2, s.dnsEvery)
			}
		} else if a != addr {
			addr = a
			s.coord.SetResolved(host, a)
			mons.stop()
			mons.start(ctx, func(mctx context.Context, wg *sync.WaitGroup) { s.startMonitors(mctx, wg, host, a) })
		}
		if attempt == 0 {
			firstDone()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (s *service) startMonitors(ctx context.Context, wg *sync.WaitGroup, host string, addr netip.Addr) {
	sc := s.cfg()
	t := monitor.Target{Service: sc.Name, Host: host, Addr: addr, Port: sc.CheckPort()}
	status := func() string {
		srv, _ := s.coord.Server(host)
		return srv.TextStatus()
	}
	for _, spec := range s.specs {
		name := spec.Name()
		if up, ok := s.coord.MonitorVerdict(host, name); ok && !up {
			s.dampers.seedDown(host, name, sc.Rise, sc.Fall) // adopted from the kernel as down
		}
		mon := dampedMonitor{Monitor: spec.New(s.d.monMetrics), onResult: func(up bool, reason string) {
			if state, changed := s.dampers.observe(host, name, sc.Rise, sc.Fall, up); changed {
				s.coord.MonitorResult(host, name, state, reason)
			}
			s.coord.Checked(host, name, up, reason)
		}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			monitor.Run(ctx, monitor.RunConfig{
				Monitor: mon, Target: t, Rise: sc.Rise, Fall: sc.Fall,
				Log: s.log, Metrics: s.d.monMetrics, Status: status,
			})
		}()
	}
}

// monitorSet is the running monitors of one server address.
type monitorSet struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (m *monitorSet) start(ctx context.Context, run func(context.Context, *sync.WaitGroup)) {
	mctx, cancel := context.WithCancel(ctx)
	m.cancel = cancel
	run(mctx, &m.wg)
}

func (m *monitorSet) stop() {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.wg.Wait()
}
