package authdns

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/dnsserver/rrl"
)

// withRRL returns st with the response rate limiter its configuration asks
// for: the one in force when the settings are unchanged (its accounts carry
// over a reload), a new one when they changed, none when `rrl:` is absent.
// Counters live in the daemon, so they outlast any limiter.
func (d *Daemon) withRRL(st *State) *State {
	want := st.Config.RRL
	if st.RRL != nil && st.RRL.Config().Equal(want) {
		return st
	}
	n := *st
	n.RRL = nil
	if cur := d.state.Load(); cur != nil && cur.RRL != nil && cur.RRL.Config().Equal(want) {
		n.RRL = cur.RRL
	} else if want != nil {
		n.RRL = rrl.New(*want, &d.rrlStats, d.log)
		d.log.Info("response rate limiting", "responses_per_second", want.ResponsesPerSecond,
			"nxdomains_per_second", want.NXDomainsPerSecond, "errors_per_second", want.ErrorsPerSecond,
			"window", want.Window, "slip", want.Slip, "log_only", want.LogOnly, "table_size", want.TableSize)
	}
	return &n
}

// sweepRRL ends the limited runs of quiet accounts (and logs them) once a
// second, off the answer path, until ctx ends.
func (d *Daemon) sweepRRL(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if l := d.state.Load().RRL; l != nil {
				l.Sweep()
			}
		}
	}
}

// rrlCollector exports the rate limiter's counters.
type rrlCollector struct {
	d                               *Daemon
	limited, entries, size, evicted *prometheus.Desc
}

func newRRLCollector(d *Daemon) *rrlCollector {
	return &rrlCollector{d: d,
		limited: prometheus.NewDesc("authdns_rrl_responses_total",
			"UDP responses rate limiting dropped or slipped (sent as TC=1), by kind; with log_only, those it would have.",
			[]string{"kind", "action"}, nil),
		entries: prometheus.NewDesc("authdns_rrl_table_entries", "Accounts in the rate limiter's table.", nil, nil),
		size:    prometheus.NewDesc("authdns_rrl_table_size", "Accounts the rate limiter's table holds at most (0: rate limiting is off).", nil, nil),
		evicted: prometheus.NewDesc("authdns_rrl_evictions_total", "Accounts evicted from the rate limiter's full table, since its settings last changed.", nil, nil),
	}
}

func (c *rrlCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.limited
	ch <- c.entries
	ch <- c.size
	ch <- c.evicted
}

func (c *rrlCollector) Collect(ch chan<- prometheus.Metric) {
	s := &c.d.rrlStats
	for k := range rrl.NumKinds {
		name := rrl.KindNames[k]
		ch <- prometheus.MustNewConstMetric(c.limited, prometheus.CounterValue, float64(s.Dropped[k].Load()), name, "dropped")
		ch <- prometheus.MustNewConstMetric(c.limited, prometheus.CounterValue, float64(s.Slipped[k].Load()), name, "slipped")
	}
	entries, size, evicted := 0, 0, uint64(0)
	if l := c.d.state.Load().RRL; l != nil {
		entries, size, evicted = l.Entries(), l.Capacity(), l.Evicted()
	}
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(entries))
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(size))
	ch <- prometheus.MustNewConstMetric(c.evicted, prometheus.CounterValue, float64(evicted))
}
