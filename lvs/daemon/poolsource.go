package daemon

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/lvs/pool"
)

// A polled pool source (file://, http://, https://) whose document is
// refused (pool.WatchWith) keeps the service's last good pool; the daemon
// reports it in /alerts as critical, since the pool no longer follows its
// source, and counts it.

// newRefusedCounter registers lvsd_pool_refused_documents_total.
func newRefusedCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lvsd_pool_refused_documents_total",
		Help: "Pool documents refused whole (empty, unparsable, or with a bad line); the last good pool stays"}, []string{"service"})
	reg.MustRegister(c)
	return c
}

// watchPolled polls the service's pool source until ctx ends, feeding
// apply and recording refusals.
func (s *service) watchPolled(ctx context.Context, src pool.Source, apply func(pool.Pool)) {
	sc := s.cfg()
	s.d.refused.WithLabelValues(sc.Name).Add(0) // the series exists from the start
	pool.WatchWith(ctx, src, pool.WatchOptions{JSON: pool.IsJSON(sc.PoolURL), Interval: sc.PoolPollInterval,
		Log: s.log.With("service", sc.Name), OnChange: apply, OnRefused: s.onRefused, Files: s.d.files})
}

// onRefused records a refusal of the service's pool source (msg) or its
// end ("").
func (s *service) onRefused(msg string) {
	if msg == "" {
		s.refusal.Store(nil)
		return
	}
	s.d.refused.WithLabelValues(s.cfg().Name).Inc()
	s.refusal.Store(&msg)
}

// PoolSourceRefusals implements instrumentation.RefusalState: by service,
// the refusal of its pool source's current document.
func (d *Daemon) PoolSourceRefusals() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]string{}
	for _, s := range d.services {
		if msg := s.refusal.Load(); msg != nil {
			out[s.cfg().Name] = *msg
		}
	}
	return out
}

// forget stops the goroutines of hosts the coordinator let go and drops
// their damping state and monitor series.
func (s *service) forget(hosts []string) {
	name := s.cfg().Name
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range hosts {
		if cancel, ok := s.servers[h]; ok {
			cancel()
			delete(s.servers, h)
		}
		s.dampers.forget(h)
		s.d.monMetrics.Forget(name, h)
	}
}
