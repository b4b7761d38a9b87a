package service

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// Indexes of EtcdKinds' watchers, whose views these tests hand to the
// service as the watchers would.
const (
	wSites = iota
	wRoutes
	wApps
)

// setupViews is a service with etcd configured but never run: the tests
// hand it views themselves (TestFollowsRealEtcd runs the real watchers).
func setupViews(t *testing.T) (*Service, *prometheus.Registry, string) {
	t.Helper()
	dir := t.TempDir()
	rp := filepath.Join(dir, "routing.yaml")
	testutil.WriteAtomic(t, rp, cfgText)
	reg := prometheus.NewRegistry()
	s, err := New(Options{RoutingPath: rp, AdminStatePath: filepath.Join(dir, "admin_state"), Registry: reg, Poll: -1,
		Etcd: &EtcdOptions{Layout: layout, Endpoints: []string{"http://127.0.0.1:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	return s, reg, rp
}

func view(t *testing.T, rev int64, kv ...string) etcdstore.View {
	t.Helper()
	v := etcdstore.View{Revision: rev}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Objects = append(v.Objects, obj(t, kv[i], kv[i+1], rev))
	}
	return v
}

func isReady(s *Service) bool {
	select {
	case <-s.EtcdReady():
		return true
	default:
		return false
	}
}

const (
	kCodfw = "/conftool/v1/sites/codfw"
	kEqiad = "/conftool/v1/sites/eqiad"
	kUlsfo = "/conftool/v1/routes/text/ulsfo"
	kCodfR = "/conftool/v1/routes/text/codfw"
	kApp   = "/conftool/v1/app-routes/text/appservers"
)

func TestEtcdViewsKeepLastGood(t *testing.T) {
	s, reg, rp := setupViews(t)
	s.applyView(wSites, view(t, 5, kCodfw, `{"state":"down"}`))
	if got := path(s, "text", "ulsfo"); got != "ulsfo eqiad" {
		t.Fatalf("codfw down in etcd: %q", got)
	}
	if isReady(s) {
		t.Fatal("ready before every watcher's first view")
	}
	s.applyView(wRoutes, view(t, 6, kUlsfo, `{"route":["eqiad"]}`))
	s.applyView(wApps, view(t, 6))
	if !isReady(s) {
		t.Fatal("not ready after every watcher's first view")
	}
	s.applyView(wSites, view(t, 7, kCodfw, `{"state":"up"}`))
	if got := path(s, "text", "ulsfo"); got != "ulsfo eqiad" {
		t.Fatalf("route override: %q", got)
	}
	gen := s.Current().Generation

	// A loop written by hand (ulsfo's override gone, so the file's
	// [codfw, eqiad] is back): refused whole, the last good set stays.
	s.applyView(wRoutes, view(t, 8, kCodfR, `{"route":"ulsfo"}`))
	if s.Current().Generation != gen || path(s, "text", "ulsfo") != "ulsfo eqiad" {
		t.Fatalf("a refused override set changed the routes: gen %d -> %d, %q", gen, s.Current().Generation, path(s, "text", "ulsfo"))
	}
	if e := s.Errors()[kindEtcd]; !strings.Contains(e, "etcd "+kCodfR+"@8: clusters.text.route_table.codfw (override): loop: codfw -> ulsfo -> codfw") {
		t.Fatalf("Errors() = %v", s.Errors())
	}
	if v := gauge(t, reg, "geotraffic_routing_file_valid", kindEtcd); v != 0 {
		t.Fatalf("file_valid{etcd} = %v", v)
	}
	st := s.EtcdStatus()
	if st.Revision != 8 || st.OverridesRevision != 6 || strings.Join(st.Overrides, ",") != "etcd "+kUlsfo+"@6" {
		t.Fatalf("status %+v", st)
	}
	// Undone back to the set in force: the refusal no longer stands.
	back := view(t, 9)
	back.Objects = append(back.Objects, obj(t, kUlsfo, `{"route":["eqiad"]}`, 6))
	s.applyView(wRoutes, back)
	if len(s.Errors()) != 0 || s.Current().Generation != gen {
		t.Fatalf("errors once back to the set in force: %v", s.Errors())
	}
	s.applyView(wRoutes, view(t, 8, kCodfR, `{"route":"ulsfo"}`))
	// Sites still apply while the overrides are refused.
	s.applyView(wSites, view(t, 10, kEqiad, `{"state":"down"}`))
	if got := path(s, "text", "ulsfo"); got != "ulsfo codfw" {
		t.Fatalf("eqiad down while the overrides are refused: %q", got)
	}
	// Fixed: the new set applies and the error clears.
	s.applyView(wRoutes, view(t, 11))
	s.applyView(wSites, view(t, 11))
	if got := path(s, "text", "ulsfo"); got != "ulsfo codfw eqiad" || len(s.Errors()) != 0 {
		t.Fatalf("after the fix: %q, errors %v", got, s.Errors())
	}
	if v := gauge(t, reg, "geotraffic_routing_file_valid", kindEtcd); v != 1 {
		t.Fatalf("file_valid{etcd} = %v", v)
	}

	// A new routing.yaml gets the overrides again; one they no longer
	// validate with is refused under "etcd", and nothing changes.
	s.applyView(wApps, view(t, 12, kApp, `{"route":"codfw"}`))
	s.applyView(wRoutes, view(t, 13, kUlsfo, `{"route":["eqiad"]}`))
	testutil.WriteAtomic(t, rp, strings.Replace(cfgText, "ulsfo: [codfw, eqiad]", "ulsfo: codfw", 1))
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := path(s, "text", "ulsfo"); got != "ulsfo eqiad" || s.Current().Config.Clusters["text"].Apps["appservers"].DCs[0] != "codfw" {
		t.Fatalf("the overrides over the new routing.yaml: %q", got)
	}
	gen = s.Current().Generation
	testutil.WriteAtomic(t, rp, strings.Replace(cfgText, "{route: [eqiad, codfw], backends: {eqiad: a.eqiad, codfw: a.codfw}}", "{route: eqiad, backends: {eqiad: a.eqiad}}", 1))
	if err := s.Reload(); err != nil {
		t.Fatalf("the file is good on its own: %v", err)
	}
	if s.Current().Generation != gen {
		t.Fatal("a routing.yaml the overrides do not validate with changed the routes")
	}
	if e := s.Errors()[kindEtcd]; !strings.Contains(e, "etcd "+kApp+"@12: clusters.text.apps.appservers.route (override): DC \"codfw\" has no backend") {
		t.Fatalf("Errors() = %v", s.Errors())
	}
	// Removing the app override makes the new file's combination valid.
	s.applyView(wApps, view(t, 14))
	if len(s.Errors()) != 0 || s.Current().Generation == gen {
		t.Fatalf("not applied after the override went: %v", s.Errors())
	}
	if _, ok := s.Current().Config.Clusters["text"].Apps["appservers"].Backends["codfw"]; ok {
		t.Fatal("the new routing.yaml is not in force")
	}
}

// A view that changes nothing for routing (a garbage value the watcher
// kept the last good value of arrives as a new revision) re-resolves
// nothing.
func TestEtcdSameViewNoNewGeneration(t *testing.T) {
	s, _, _ := setupViews(t)
	s.applyView(wRoutes, view(t, 3, kUlsfo, `{"route":["eqiad"]}`))
	gen := s.Current().Generation
	v := view(t, 4)
	v.Objects = []conftool.Object{obj(t, kUlsfo, `{"route":["eqiad"]}`, 3)}
	s.applyView(wRoutes, v)
	s.applyView(wSites, view(t, 4))
	if s.Current().Generation != gen {
		t.Fatalf("generation %d, want %d", s.Current().Generation, gen)
	}
}

func TestEtcdSiteWarnings(t *testing.T) {
	s, reg, _ := setupViews(t)
	s.applyView(wSites, view(t, 3, "/conftool/v1/sites/drmrs", `{"state":"down"}`))
	ws := warningStrings(s.Current().Warnings)
	if len(ws) != 1 || !strings.HasPrefix(ws[0], "etcd /conftool/v1/sites/drmrs@3: site/drmrs: matches no site") {
		t.Fatalf("warnings %v", ws)
	}
	if v := gauge(t, reg, "geotraffic_routing_warnings", kindEtcd); v != 1 {
		t.Fatalf("warnings{etcd} = %v", v)
	}
}
