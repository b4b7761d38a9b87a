package etcdstore

import "github.com/prometheus/client_golang/prometheus"

// RegisterMetrics exports a watcher as NAMESPACE_etcd_connected (1 or 0),
// NAMESPACE_etcd_revision (of the view applied), NAMESPACE_etcd_relists_total
// and NAMESPACE_etcd_rejected_values_total, with constant labels (e.g. the
// prefix or service) so one daemon can export several watchers.
func RegisterMetrics(reg prometheus.Registerer, namespace string, labels prometheus.Labels, w *Watcher) error {
	for _, c := range Collectors(namespace, labels, w) {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// WatcherState is what the metrics read; *Watcher has it. A caller may
// stand in for a watcher it has not created yet (lvsd does while it cannot
// create the client: with a user, that needs etcd).
type WatcherState interface {
	Connected() bool
	Revision() int64
	Relists() int64
	Rejected() int64
}

// Collectors are RegisterMetrics' series, for a caller that must also
// unregister them (a daemon whose watchers come and go with reloads).
func Collectors(namespace string, labels prometheus.Labels, w WatcherState) []prometheus.Collector {
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "etcd_connected", ConstLabels: labels,
			Help: "1 while etcd answers; 0 while the last good state is kept without it."},
			func() float64 { return b2f(w.Connected()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: "etcd_revision", ConstLabels: labels,
			Help: "etcd revision of the state applied last."},
			func() float64 { return float64(w.Revision()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: "etcd_relists_total", ConstLabels: labels,
			Help: "Full re-reads of etcd after an outage or a compaction."},
			func() float64 { return float64(w.Relists()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: "etcd_rejected_values_total", ConstLabels: labels,
			Help: "etcd values ignored because they do not parse (the object kept its previous value)."},
			func() float64 { return float64(w.Rejected()) }),
	}
}
