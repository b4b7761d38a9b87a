package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/routing"
)

const cfgText = `
sites:
  eqiad: {coords: [39.04, -77.49]}
  codfw: {coords: [32.90, -97.04]}
  ulsfo: {coords: [37.78, -122.39]}
clusters:
  text:
    route_table: {eqiad: direct, codfw: eqiad, ulsfo: [codfw, eqiad]}
    apps:
      appservers: {route: [eqiad, codfw], backends: {eqiad: a.eqiad, codfw: a.codfw}}
`

func setup(t *testing.T) (*Service, *prometheus.Registry, string, string) {
	t.Helper()
	dir := t.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(t, rp, cfgText)
	reg := prometheus.NewRegistry()
	s, err := New(Options{RoutingPath: rp, AdminStatePath: ap, Registry: reg, Poll: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s, reg, rp, ap
}

func path(s *Service, cluster, site string) string {
	for _, r := range s.Current().Results {
		if r.Cluster == cluster && r.Site == site {
			return strings.Join(r.Path, " ")
		}
	}
	return ""
}

// gauge reads a gauge of reg whose only label value is label.
func gauge(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no %s{%s}", name, label)
	return 0
}

func TestBadStartRefused(t *testing.T) {
	dir := t.TempDir()
	rp := filepath.Join(dir, "routing.yaml")
	testutil.WriteAtomic(t, rp, "clusters: {}\n")
	_, err := New(Options{RoutingPath: rp, AdminStatePath: filepath.Join(dir, "as"), Registry: prometheus.NewRegistry()})
	if err == nil || !strings.Contains(err.Error(), rp+":1:") {
		t.Fatalf("err = %v", err)
	}
}

func TestReloadKeepsLastGood(t *testing.T) {
	s, reg, rp, ap := setup(t)
	if got := path(s, "text", "ulsfo"); got != "ulsfo codfw eqiad" {
		t.Fatalf("initial ulsfo path %q", got)
	}
	testutil.WriteAtomic(t, ap, "site/codfw => DOWN\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := path(s, "text", "ulsfo"); got != "ulsfo eqiad" {
		t.Fatalf("after codfw DOWN: %q", got)
	}
	gen := s.Current().Generation

	testutil.WriteAtomic(t, rp, strings.Replace(cfgText, "eqiad: direct,", "eqiad: drmrs,", 1))
	err := s.Reload()
	if err == nil || !strings.Contains(err.Error(), `unknown site "drmrs"`) {
		t.Fatalf("bad file not reported: %v", err)
	}
	if s.Current().Generation != gen || path(s, "text", "ulsfo") != "ulsfo eqiad" {
		t.Fatal("a bad routing file changed the routes")
	}
	if v := gauge(t, reg, "geotraffic_routing_file_valid", "routing"); v != 0 {
		t.Fatalf("file_valid = %v", v)
	}
	if got := s.Errors()["routing"]; !strings.Contains(got, "drmrs") {
		t.Fatalf("Errors() = %v", s.Errors())
	}
	// admin_state changes still apply over the last good config.
	testutil.WriteAtomic(t, ap, "")
	if err := s.Reload(); err == nil {
		t.Fatal("the routing file is still bad; Reload should still say so")
	}
	if path(s, "text", "ulsfo") != "ulsfo codfw eqiad" {
		t.Fatal("admin_state change not applied while routing.yaml is bad")
	}
	// A deleted routing.yaml is an error too, not an empty config.
	if err := os.Remove(rp); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil || !strings.Contains(s.Errors()["routing"], "no such file") {
		t.Fatalf("deleted routing.yaml: %v", err)
	}
	if path(s, "text", "ulsfo") != "ulsfo codfw eqiad" {
		t.Fatal("a deleted routing.yaml changed the routes")
	}
	testutil.WriteAtomic(t, ap, "site/codfw => SIDEWAYS\n")
	_ = s.Reload()
	if path(s, "text", "ulsfo") != "ulsfo codfw eqiad" {
		t.Fatal("a bad admin_state changed the routes")
	}
	if v := gauge(t, reg, "geotraffic_routing_file_valid", "admin_state"); v != 0 {
		t.Fatalf("admin_state file_valid = %v", v)
	}
}

func TestWatchAndServe(t *testing.T) {
	s, _, rp, ap := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	get := func(p string) (int, string) {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ulsfo := func() routing.Result {
		code, body := get("/routes/text/ulsfo")
		var r routing.Result
		if code != 200 || json.Unmarshal([]byte(body), &r) != nil {
			t.Fatalf("GET /routes/text/ulsfo: %d %s", code, body)
		}
		return r
	}
	// No sleep for the watch to be set up: Run re-reads both files once it
	// is, and setup disables the poll (Poll: -1), so only file events and
	// that one read can apply the edits below.
	// In-place write, as an operator's editor may do.
	if err := os.WriteFile(ap, []byte("site/codfw => DOWN\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "codfw DOWN to reroute ulsfo", func() bool { return strings.Join(ulsfo().Path, " ") == "ulsfo eqiad" })
	if r := ulsfo(); r.Reasons[0].Reason != routing.ReasonFallback {
		t.Fatalf("reasons %+v", r.Reasons)
	}
	testutil.WriteAtomic(t, rp, strings.Replace(cfgText, "ulsfo: [codfw, eqiad]", "ulsfo: codfw", 1))
	testutil.WaitFor(t, "new routing.yaml", func() bool { return ulsfo().Reasons[0].Reason == routing.ReasonNearest })

	for p, want := range map[string]int{"/routes": 200, "/routes/text": 200, "/routes/upload": 404, "/routes/text/esams": 404, "/status": 200, "/metrics": 200} {
		if code, body := get(p); code != want {
			t.Errorf("GET %s = %d, want %d: %s", p, code, want, body)
		}
	}
	if _, body := get("/metrics"); !strings.Contains(body, `geotraffic_routing_routes{cluster="text",status="ok"} 3`) {
		t.Errorf("metrics:\n%s", body)
	}
}
