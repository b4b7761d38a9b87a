package monitor

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are PyBal's pybal_monitor_* series. A nil *Metrics records
// nothing.
type Metrics struct {
	upTransitions, downTransitions, upResults, downResults   *prometheus.CounterVec
	proxyFetchDuration, dnsQueryDuration, runCommandDuration *prometheus.HistogramVec
	idleFailed, idleLost                                     *prometheus.CounterVec
}

// NewMetrics registers the series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	labels := []string{"service", "host", "monitor"}
	c := func(name, help string, l []string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "pybal", Subsystem: "monitor", Name: name, Help: help}, l)
		reg.MustRegister(v)
		return v
	}
	h := func(name, help string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "pybal", Subsystem: "monitor", Name: name, Help: help,
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"service", "host"})
		reg.MustRegister(v)
		return v
	}
	return &Metrics{
		upTransitions:      c("up_transitions_total", "Monitor up transition count", labels),
		downTransitions:    c("down_transitions_total", "Monitor down transition count", labels),
		upResults:          c("up_results_total", "Monitor up result count", labels),
		downResults:        c("down_results_total", "Monitor down result count", labels),
		proxyFetchDuration: h("proxyfetch_request_duration_seconds", "ProxyFetch request duration"),
		dnsQueryDuration:   h("dnsquery_request_duration_seconds", "DNSQuery request duration"),
		runCommandDuration: h("runcommand_run_duration_seconds", "RunCommand run duration"),
		idleFailed:         c("idleconnection_connections_failed_total", "IdleConnection failed connections", []string{"service", "host"}),
		idleLost:           c("idleconnection_connections_lost_total", "IdleConnection lost connections", []string{"service", "host"}),
	}
}

func (m *Metrics) result(t Target, mon string, up bool) {
	if m == nil {
		return
	}
	if up {
		m.upResults.WithLabelValues(t.Service, t.Host, mon).Inc()
	} else {
		m.downResults.WithLabelValues(t.Service, t.Host, mon).Inc()
	}
}

func (m *Metrics) transition(t Target, mon string, up bool) {
	if m == nil {
		return
	}
	if up {
		m.upTransitions.WithLabelValues(t.Service, t.Host, mon).Inc()
	} else {
		m.downTransitions.WithLabelValues(t.Service, t.Host, mon).Inc()
	}
}

func (m *Metrics) observe(h func(*Metrics) *prometheus.HistogramVec, t Target, d time.Duration) {
	if m == nil {
		return
	}
	h(m).WithLabelValues(t.Service, t.Host).Observe(d.Seconds())
}

func (m *Metrics) count(c func(*Metrics) *prometheus.CounterVec, t Target) {
	if m == nil {
		return
	}
	c(m).WithLabelValues(t.Service, t.Host).Inc()
}

// Forget drops a server's series (server removed from the pool).
func (m *Metrics) Forget(service, host string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"service": service, "host": host}
	for _, v := range []*prometheus.CounterVec{m.upTransitions, m.downTransitions, m.upResults, m.downResults, m.idleFailed, m.idleLost} {
		v.DeletePartialMatch(l)
	}
	for _, v := range []*prometheus.HistogramVec{m.proxyFetchDuration, m.dnsQueryDuration, m.runCommandDuration} {
		v.DeletePartialMatch(l)
	}
}
