package bgp

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics keeps PyBal's names (pybal_bgp_*) so existing dashboards work,
// and adds lvsd_bgp_* for what PyBal did not export.
type metrics struct {
	enabled     prometheus.Gauge
	established *prometheus.GaugeVec // local_asn, peer
	announced   *prometheus.GaugeVec // family
	changes     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		enabled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pybal_bgp_enabled", Help: "1 while the BGP speaker runs.",
		}),
		established: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pybal_bgp_session_established", Help: "1 when the BGP session to the peer is established.",
		}, []string{"local_asn", "peer"}),
		announced: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lvsd_bgp_announced_prefixes", Help: "Service IP prefixes currently announced, by address family.",
		}, []string{"family"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lvsd_bgp_route_changes_total", Help: "Routes announced, re-announced (MED change) and withdrawn.",
		}, []string{"action"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.enabled, m.established, m.announced, m.changes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("bgp metrics: %w", err)
		}
	}
	m.announced.WithLabelValues("ipv4")
	m.announced.WithLabelValues("ipv6")
	return m, nil
}
