package authdns

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/internal/httpsafe"
)

// panicCollector exports authdns_panics_total: queries and HTTP requests
// (control API, metrics) dropped because handling them panicked, while
// the daemon went on serving.
type panicCollector struct {
	d    *Daemon
	desc *prometheus.Desc
}

func newPanicCollector(d *Daemon) *panicCollector {
	return &panicCollector{d: d, desc: prometheus.NewDesc("authdns_panics_total",
		"Queries (handler dns_udp, dns_tcp) and control or metrics HTTP requests (handler http) dropped because handling them panicked; the daemon goes on serving.",
		[]string{"handler"}, nil)}
}

func (c *panicCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *panicCollector) Collect(ch chan<- prometheus.Metric) {
	for proto, n := range c.d.srv.Stats().Panics {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), "dns_"+dnsserver.ProtoNames[proto])
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.d.httpPanics.Load()), "http")
}

// guardHTTP is the chain every control and metrics request goes through:
// a panic in h answers 500 (or aborts a started response), is logged with
// its stack and counted, and the listener goes on.
func (d *Daemon) guardHTTP(h http.Handler) http.Handler {
	return httpsafe.Wrap(h, d.log, func() { d.httpPanics.Add(1) })
}
