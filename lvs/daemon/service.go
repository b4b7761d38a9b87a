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
	cfg      *config.Service
	specs    []monitor.Spec
	coord    *coordinator.Coordinator
	d        *Daemon
	log      *slog.Logger
	dnsEvery time.Duration

	// ready is set once the first pool has been applied and every initial
	// host had one resolution attempt; until then the service is left out
	// of reconciliation, so a restart never depools what the kernel has.
	ready atomic.Bool

	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	servers map[string]context.CancelFunc // host → its goroutines
}

func newService(d *Daemon, sc *config.Service, specs []monitor.Spec, dnsEvery time.Duration) *service {
	names := make([]string, 0, len(specs))
	for _, s := range specs {
		names = append(names, s.Name())
	}
	set := coordinator.Settings{
		Name: sc.Name,
		Service: ipvs.Service{Key: sc.Key, Scheduler: sc.Scheduler, OnePacket: sc.OnePacket,
			MHPort: sc.MHPort, MHFallback: sc.MHFallback},
		Port: sc.CheckPort(), Forward: sc.Forwarding, DepoolThreshold: sc.DepoolThreshold,
		DrainOnDepool: sc.DrainOnDepool, Monitors: names,
	}
	s := &service{cfg: sc, specs: specs, d: d, log: d.log, dnsEvery: dnsEvery, servers: map[string]context.CancelFunc{}}
	s.coord = coordinator.New(set, d.log, d.coordMetrics, d.kick)
	return s
}

func (s *service) start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	src, err := pool.NewSource(s.cfg.PoolURL, 10*time.Second)
	if err != nil {
		s.log.Error(fmt.Sprintf("[%s] %v; the service is left as it is in IPVS", s.cfg.Name, err))
		return
	}
	first := true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		pool.Watch(ctx, src, pool.IsJSON(s.cfg.PoolURL), s.cfg.PoolPollInterval, s.log.With("service", s.cfg.Name), func(p pool.Pool) {
			added, removed := s.coord.UpdatePool(p)
			s.mu.Lock()
			for _, h := range removed {
				if cancel, ok := s.servers[h]; ok {
					cancel()
					delete(s.servers, h)
				}
				s.d.monMetrics.Forget(s.cfg.Name, h)
			}
			var initial sync.WaitGroup
			for _, h := range added {
				hctx, cancel := context.WithCancel(ctx)
				s.servers[h] = cancel
				initial.Add(1)
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					s.runServer(hctx, h, initial.Done)
				}()
			}
			s.mu.Unlock()
			if first {
				first = false
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					initial.Wait()
					if ctx.Err() == nil {
						s.ready.Store(true)
						s.log.Info(fmt.Sprintf("[%s] Initialization complete", s.cfg.Name))
						s.d.kick()
					}
				}()
			}
		})
	}()
}

// stop ends every goroutine of the service and waits for them.
func (s *service) stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	s.coord.Close()
}

// runServer resolves a host (retrying until it resolves, then
// re-resolving periodically) and runs its monitors against the current
// address. firstDone is called after the first resolution attempt.
func (s *service) runServer(ctx context.Context, host string, firstDone func()) {
	var (
		addr       netip.Addr
		mons       monitorSet
		retryDelay = time.Second
	)
	defer mons.stop()
	for attempt := 0; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		a, err := pool.Resolve(rctx, s.d.opts.Lookup, host, s.cfg.Key.Addr, addr)
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
	t := monitor.Target{Service: s.cfg.Name, Host: host, Addr: addr, Port: s.cfg.CheckPort()}
	status := func() string {
		srv, _ := s.coord.Server(host)
		return srv.TextStatus()
	}
	for _, spec := range s.specs {
		name := spec.Name()
		wg.Add(1)
		go func() {
			defer wg.Done()
			monitor.Run(ctx, monitor.RunConfig{
				Monitor: spec.New(s.d.monMetrics), Target: t, Rise: s.cfg.Rise, Fall: s.cfg.Fall,
				Log: s.log, Metrics: s.d.monMetrics, Status: status,
				OnChange: func(up bool, reason string) { s.coord.MonitorResult(host, name, up, reason) },
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
