package service

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/internal/httpsafe"
)

// guard is the chain every request of Handler goes through: a panic in h
// answers 500 (or aborts a started response), is logged with its stack
// and counted in geotraffic_routing_panics_total, and the server goes on.
func (s *Service) guard(h http.Handler) http.Handler {
	return httpsafe.Guard(h, s.log, s.opts.Registry, "geotraffic_routing_panics_total",
		"HTTP requests of trafficctl serve whose handler panicked (answered 500); the server goes on.",
		prometheus.Labels{"handler": "http"})
}
