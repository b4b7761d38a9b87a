package bgp

import (
	"errors"
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
	var err error
	if m.enabled, err = register(reg, m.enabled); err != nil {
		return nil, err
	}
	if m.established, err = register(reg, m.established); err != nil {
		return nil, err
	}
	if m.announced, err = register(reg, m.announced); err != nil {
		return nil, err
	}
	if m.changes, err = register(reg, m.changes); err != nil {
		return nil, err
	}
	m.announced.WithLabelValues("ipv4")
	m.announced.WithLabelValues("ipv6")
	return m, nil
}

// register adopts an identical collector already on reg, so a speaker
// rebuilt in the same process (a new Server) keeps its series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("bgp metrics: %w", err)
	}
	return c, nil
}

// RegisterDisabled exports pybal_bgp_enabled as 0 for a daemon that runs
// no speaker (bgp = no, or --no-bgp): monitoring such as Wikimedia's
// check_pybal_bgp reports UNKNOWN when the series is missing.
func RegisterDisabled(reg prometheus.Registerer) error {
	m, err := newMetrics(nil)
	if err != nil {
		return err
	}
	g, err := register(reg, m.enabled)
	if err != nil {
		return err
	}
	g.Set(0)
	return nil
}
