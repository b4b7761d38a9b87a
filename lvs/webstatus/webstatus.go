// Package webstatus serves lvsd's HTML status page at / of the
// instrumentation port, beside the PyBal-compatible API that stays its JSON
// and text twin: per service its VIP, scheduler, servers (enabled, up,
// pooled, weight, monitors' results, IPVS counters with lvsd status's
// anomaly flag) and depool-threshold headroom, the BGP sessions and
// announced prefixes, and /alerts on top.
package webstatus

import (
	"net/http"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/internal/statuspage"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
	"github.com/prometheus/client_golang/prometheus"
)

// Handler is the instrumentation API (instrumentation.Handler) with the
// page at / for browsers and the page's assets under /static/status/.
// Every other request, and / from clients that do not ask for HTML, is
// the API's, answered as before.
func Handler(st instrumentation.State, gatherer prometheus.Gatherer) http.Handler {
	api := instrumentation.Handler(st, gatherer)
	page := statuspage.Handler(func(r *http.Request) (statuspage.Page, error) {
		return Render(r.Context(), st, time.Now())
	})
	assets := statuspage.Assets()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, statuspage.AssetPrefix):
			assets.ServeHTTP(w, r)
		case r.URL.Path == "/" && WantHTML(r):
			page.ServeHTTP(w, r)
		default:
			api.ServeHTTP(w, r)
		}
	})
}

// WantHTML reports whether the client accepts text/html (browsers do, and
// the page's refresh script says so) and did not ask for JSON: curl and
// PyBal's clients keep the API's answer for /, a 404.
func WantHTML(r *http.Request) bool {
	return instrumentation.Accepts(r, "text/html") && !instrumentation.WantJSON(r)
}
