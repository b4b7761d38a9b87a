package daemon

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

// A panicking instrumentation handler behind the chain startHTTP uses:
// 500, one log line with the stack, lvsd_panics_total counts it, and the
// next request is served.
func TestInstrumentationPanicAnswers500(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "pybal.conf")
	testutil.WriteAtomic(t, conf, "[global]\nbgp = no\n")
	var logs testutil.SyncBuffer
	reg := prometheus.NewRegistry()
	d, err := New(Options{ConfigPath: conf, Director: &fakeDirector{}, Registry: reg, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/pools", func(http.ResponseWriter, *http.Request) { panic("test: a handler bug") })
	mux.HandleFunc("/alerts", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "OK") })
	srv := httptest.NewServer(d.guardHTTP(mux))
	defer srv.Close()
	for _, tc := range []struct {
		path   string
		status int
	}{{"/pools", 500}, {"/alerts", 200}} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64 = -1
	for _, mf := range mfs {
		if mf.GetName() == "lvsd_panics_total" {
			n = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if n != 1 {
		t.Errorf("lvsd_panics_total = %v, want 1", n)
	}
	if log := logs.String(); strings.Count(log, "panic while serving an HTTP request") != 1 || !strings.Contains(log, "goroutine ") {
		t.Errorf("log:\n%s", log)
	}
}
