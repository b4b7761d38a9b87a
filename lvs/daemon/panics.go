package daemon

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/internal/httpsafe"
)

// guardHTTP is the chain every instrumentation request goes through: a
// panic in h answers 500 (or aborts a started response), is logged with
// its stack and counted in lvsd_panics_total, and the API goes on.
func (d *Daemon) guardHTTP(h http.Handler) http.Handler {
	return httpsafe.Guard(h, d.log, d.opts.Registry, "lvsd_panics_total",
		"Instrumentation API requests whose handler panicked (answered 500); lvsd goes on.",
		prometheus.Labels{"handler": "instrumentation"})
}
