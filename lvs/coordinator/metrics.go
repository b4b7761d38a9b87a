package coordinator

import "github.com/prometheus/client_golang/prometheus"

// Metrics are PyBal's pybal_service_* series plus pybal_monitor_status.
type Metrics struct {
	servers, enabled, up, pooled, canDepool, pooledDown, depoolThreshold *prometheus.GaugeVec
	pooledWeight                                                         *prometheus.GaugeVec
	couldNotDepool                                                       *prometheus.CounterVec
	monitorStatus                                                        *prometheus.GaugeVec
}

// NewMetrics registers the series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	g := func(name, help string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "pybal", Subsystem: "service", Name: name, Help: help}, []string{"service"})
		reg.MustRegister(v)
		return v
	}
	m := &Metrics{
		servers:         g("servers", "Amount of servers"),
		enabled:         g("servers_enabled", "Amount of enabled servers"),
		up:              g("servers_up", "Amount of up servers"),
		pooled:          g("servers_pooled", "Amount of pooled servers"),
		canDepool:       g("can_depool", "Can depool more servers"),
		pooledDown:      g("pooled_down_servers", "Amount of down servers pooled because too many down"),
		depoolThreshold: g("depool_threshold", "Threshold of up servers vs total servers below which pybal can't depool any more"),
		pooledWeight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lvsd_service_pooled_weight",
			Help: "Sum of the pooled servers' weights; 0 with servers in the pool means no new connection is served"}, []string{"service"}),
		couldNotDepool: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "pybal", Subsystem: "service", Name: "could_not_depool_total",
			Help: "Pybal could not depool a server because too many down"}, []string{"service"}),
		monitorStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "pybal", Subsystem: "monitor", Name: "status",
			Help: "Monitor up status"}, []string{"service", "host", "monitor"}),
	}
	reg.MustRegister(m.pooledWeight, m.couldNotDepool, m.monitorStatus)
	return m
}

func (c *Coordinator) updateMetrics() {
	m := c.metrics
	if m == nil {
		return
	}
	var en, up, pooled int
	for _, s := range c.servers {
		if s.Enabled {
			en++
		}
		if s.Up {
			up++
		}
		if s.Pooled {
			pooled++
		}
	}
	n := c.set.Name
	m.servers.WithLabelValues(n).Set(float64(len(c.servers)))
	m.enabled.WithLabelValues(n).Set(float64(en))
	m.up.WithLabelValues(n).Set(float64(up))
	m.pooled.WithLabelValues(n).Set(float64(pooled))
	down, _ := c.downAndHeld()
	m.pooledDown.WithLabelValues(n).Set(float64(len(down)))
	m.canDepool.WithLabelValues(n).Set(b2f(c.canDepool()))
	m.pooledWeight.WithLabelValues(n).Set(float64(c.pooledWeight()))
	m.couldNotDepool.WithLabelValues(n).Add(0)
}

func (m *Metrics) forget(service string) {
	for _, v := range []*prometheus.GaugeVec{m.servers, m.enabled, m.up, m.pooled, m.canDepool, m.pooledDown, m.depoolThreshold, m.pooledWeight} {
		v.DeleteLabelValues(service)
	}
	m.couldNotDepool.DeleteLabelValues(service)
	m.monitorStatus.DeletePartialMatch(prometheus.Labels{"service": service})
}
