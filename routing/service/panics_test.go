package service

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// A handler that panics, behind the chain Handler uses: 500, one log line
// with the stack, geotraffic_routing_panics_total counts it, and the
// server answers the next request.
func TestHandlerPanicAnswers500(t *testing.T) {
	dir := t.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(t, rp, cfgText)
	var logs testutil.SyncBuffer
	reg := prometheus.NewRegistry()
	s, err := New(Options{RoutingPath: rp, AdminStatePath: ap, Registry: reg, Poll: -1, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	real := s.Handler()
	mux := http.NewServeMux()
	mux.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("test: a handler bug") })
	mux.Handle("/", real)
	srv := httptest.NewServer(s.guard(mux))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/routes/text/ulsfo")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"site": "ulsfo"`) {
		t.Fatalf("next request: %d %s", resp.StatusCode, b)
	}
	if n := counterValue(t, reg, "geotraffic_routing_panics_total"); n != 1 {
		t.Errorf("geotraffic_routing_panics_total = %v, want 1", n)
	}
	if log := logs.String(); strings.Count(log, "panic while serving an HTTP request") != 1 || !strings.Contains(log, "goroutine ") ||
		!strings.Contains(log, "path=/boom") {
		t.Errorf("log:\n%s", log)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no single series %s", name)
	return 0
}
