package service

import (
	"github.com/geotraffic/geotraffic/internal/conf"

	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/routing"
)

type metrics struct {
	etcd        bool // etcd is followed: its kind gets series too
	reloads     *prometheus.CounterVec
	valid       *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	resolutions prometheus.Counter
	generation  prometheus.Gauge
	routes      *prometheus.GaugeVec
	sitesDown   prometheus.Gauge
	warnings    *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer, etcd bool) *metrics {
	m := &metrics{
		etcd: etcd,
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geotraffic_routing_reloads_total",
			Help: "Loads of routing.yaml or admin_state, or of etcd's overrides (file=\"etcd\"), by result (success, error); an error keeps the last good one.",
		}, []string{"file", "result"}),
		valid: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "geotraffic_routing_file_valid",
			Help: "1 if the file's current contents (file=\"etcd\": etcd's overrides with routing.yaml) were accepted, 0 if they were rejected and older ones are in force.",
		}, []string{"file"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "geotraffic_routing_last_success_timestamp_seconds",
			Help: "When the file's contents were last accepted.",
		}, []string{"file"}),
		resolutions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geotraffic_routing_resolutions_total",
			Help: "Re-resolutions of all routes.",
		}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "geotraffic_routing_generation",
			Help: "Generation of the routes in force (the X-Routing-Generation header).",
		}),
		routes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "geotraffic_routing_routes",
			Help: "Resolved (cluster, entry site) routes by status: ok, degraded (some app has no valid DC), shutdown, unreachable.",
		}, []string{"cluster", "status"}),
		sitesDown: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "geotraffic_routing_sites_down",
			Help: "Sites of routing.yaml that admin_state marks DOWN.",
		}),
		warnings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "geotraffic_routing_warnings",
			Help: "Warnings about the files in force (see /status): routing.yaml backends no app route uses; admin_state site/ lines (file=\"etcd\": site objects) that match no site.",
		}, []string{"file"}),
	}
	reg.MustRegister(m.reloads, m.valid, m.lastSuccess, m.resolutions, m.generation, m.routes, m.sitesDown, m.warnings)
	return m
}

func (m *metrics) observe(s *Snapshot) {
	m.resolutions.Inc()
	m.generation.Set(float64(s.Generation))
	m.routes.Reset()
	for _, c := range s.Config.ClusterNames() {
		for _, st := range routing.Statuses {
			m.routes.WithLabelValues(c, st).Set(0)
		}
	}
	for _, r := range s.Results {
		m.routes.WithLabelValues(r.Cluster, r.Status).Inc()
	}
	down := 0
	for name := range s.Config.Sites {
		if d, _ := routing.Down(s.State, name); d {
			down++
		}
	}
	m.sitesDown.Set(float64(down))
	n := map[string]int{}
	for _, w := range s.Warnings {
		n[warningKind(s.Config, w)]++
	}
	kinds := []string{kindRouting, kindAdmin}
	if m.etcd {
		kinds = append(kinds, kindEtcd)
	}
	for _, kind := range kinds {
		m.warnings.WithLabelValues(kind).Set(float64(n[kind]))
	}
}

// warningKind is the file a warning is about; etcd objects are named by
// their source (routing.Warning renders it in place of file:line).
func warningKind(cfg *routing.Config, w *conf.Error) string {
	switch {
	case w.Pos.File == cfg.File:
		return kindRouting
	case strings.HasPrefix(w.Pos.File, "etcd "):
		return kindEtcd
	}
	return kindAdmin
}
