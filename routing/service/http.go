package service

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/internal/statuspage"
	"github.com/geotraffic/geotraffic/routing"
)

// Handler serves:
//
//	GET /                        the overview page (HTML; ?cluster=NAME
//	                             chooses the routes drawn on the map)
//	GET /static/status/...       the page's stylesheet and script
//	GET /routes                  every resolved route (a JSON list)
//	GET /routes/<cluster>        one cluster's routes (a JSON list)
//	GET /routes/<cluster>/<site> one route (a JSON object)
//	GET /status                  generation, rejected files and warnings, etcd
//	GET /metrics                 Prometheus metrics of the registry
//
// Route responses carry X-Routing-Generation. Every other GET is a JSON
// 404 {"error": ...}.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", statuspage.Handler(s.overviewPage))
	mux.Handle("GET "+statuspage.AssetPrefix, statuspage.Assets())
	mux.HandleFunc("GET /routes", func(w http.ResponseWriter, r *http.Request) {
		snap := s.Current()
		s.writeJSON(w, snap, http.StatusOK, snap.Results)
	})
	mux.HandleFunc("GET /routes/{cluster}", func(w http.ResponseWriter, r *http.Request) {
		snap := s.Current()
		name := r.PathValue("cluster")
		if _, ok := snap.Config.Clusters[name]; !ok {
			s.writeJSON(w, snap, http.StatusNotFound, map[string]string{"error": "unknown cluster " + strconv.Quote(name)})
			return
		}
		out := []routing.Result{}
		for _, res := range snap.Results {
			if res.Cluster == name {
				out = append(out, res)
			}
		}
		s.writeJSON(w, snap, http.StatusOK, out)
	})
	mux.HandleFunc("GET /routes/{cluster}/{site}", func(w http.ResponseWriter, r *http.Request) {
		snap := s.Current()
		c, site := r.PathValue("cluster"), r.PathValue("site")
		for _, res := range snap.Results {
			if res.Cluster == c && res.Site == site {
				s.writeJSON(w, snap, http.StatusOK, res)
				return
			}
		}
		s.writeJSON(w, snap, http.StatusNotFound, map[string]string{"error": "no route for cluster " + strconv.Quote(c) + " and site " + strconv.Quote(site)})
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		snap := s.Current()
		status := map[string]any{
			"generation":  snap.Generation,
			"resolved_at": snap.At,
			"routing":     s.opts.RoutingPath,
			"admin_state": s.opts.AdminStatePath,
			"errors":      s.Errors(),
			"warnings":    warningStrings(snap.Warnings),
		}
		if e := s.EtcdStatus(); e != nil {
			status["etcd"] = e
		}
		s.writeJSON(w, snap, http.StatusOK, status)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{}))
	// Anything else, such as /routes/text/ (an empty site), gets the same
	// JSON error as an unknown cluster or site, not the mux's plain text.
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, s.Current(), http.StatusNotFound, map[string]string{"error": "no such endpoint " + strconv.Quote(r.URL.Path) +
			" (GET /, /routes, /routes/CLUSTER, /routes/CLUSTER/SITE, /status, /metrics)"})
	})
	return s.guard(mux)
}

func (s *Service) writeJSON(w http.ResponseWriter, snap *Snapshot, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Routing-Generation", strconv.FormatUint(snap.Generation, 10))
	w.WriteHeader(code)
	if err := routing.WriteJSON(w, v); err != nil {
		s.log.Debug("routing: writing response", "err", err)
	}
}

// warningStrings renders warnings as `file:line: key: msg`; [] when none.
func warningStrings(ws []*conf.Error) []string {
	out := []string{}
	for _, w := range ws {
		out = append(out, w.Error())
	}
	return out
}
