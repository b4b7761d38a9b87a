package health

import "github.com/prometheus/client_golang/prometheus"

// metrics are the authdns_health_* series.
type metrics struct {
	state       *prometheus.GaugeVec
	transitions *prometheus.CounterVec
	durations   *prometheus.HistogramVec
	skips       *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "authdns", Subsystem: "health", Name: "up",
			Help: "Monitored state of an address for a service type: 1 UP, 0 DOWN."}, []string{"addr", "service"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "authdns", Subsystem: "health", Name: "transitions_total",
			Help: "Monitored state changes, by the state changed to."}, []string{"addr", "service", "to"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "authdns", Subsystem: "health", Name: "check_duration_seconds",
			Help:    "Duration of health checks, by service type.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"service"}),
		skips: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "authdns", Subsystem: "health", Name: "skipped_rounds_total",
			Help: "Rounds skipped because the previous check still ran (no free check slot)."}, []string{"service"}),
	}
	if reg != nil {
		reg.MustRegister(m.state, m.transitions, m.durations, m.skips)
	}
	return m
}

func (m *metrics) up(k Key) prometheus.Gauge {
	return m.state.WithLabelValues(k.Addr.String(), k.Service)
}

func (m *metrics) latency(service string) prometheus.Observer {
	return m.durations.WithLabelValues(service)
}

func (m *metrics) transition(k Key, down bool) {
	to := "up"
	if down {
		to = "down"
	}
	m.transitions.WithLabelValues(k.Addr.String(), k.Service, to).Inc()
}

func (m *metrics) skipped(service string) { m.skips.WithLabelValues(service).Inc() }

// forget drops a pair's series when it is no longer monitored.
func (m *metrics) forget(k Key) {
	l := prometheus.Labels{"addr": k.Addr.String(), "service": k.Service}
	m.state.DeletePartialMatch(l)
	m.transitions.DeletePartialMatch(l)
}
