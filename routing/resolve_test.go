package routing

import (
	"reflect"
	"strings"
	"testing"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

// seeds is the seeds' route table (single-name form) with apps in the two
// core DCs.
const seeds = `
sites:
  eqiad: {coords: [39.04, -77.49]}
  codfw: {coords: [32.90, -97.04]}
  ulsfo: {coords: [37.78, -122.39]}
  esams: {coords: [52.31, 4.94]}
clusters:
  text:
    route_table:
      eqiad: direct
      codfw: eqiad
      ulsfo: codfw
      esams: eqiad
    apps:
      appservers:
        route: eqiad
        backends: {eqiad: app.eqiad, codfw: app.codfw}
      api:
        route: [eqiad, codfw]
        backends: {eqiad: api.eqiad, codfw: api.codfw}
      restbase:
        route: {active-active: [eqiad, codfw]}
        backends: {eqiad: rb.eqiad, codfw: rb.codfw}
`

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	cfg, err := Parse("routing.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return cfg
}

func mustState(t *testing.T, src string) *adminstate.State {
	t.Helper()
	st, err := adminstate.Parse("admin_state", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// want describes one expected result compactly.
type want struct {
	status  string
	path    string // sites joined by " "
	reasons string // reasons joined by " "
	apps    map[string]string
}

func check(t *testing.T, got []Result, cluster string, wants map[string]want) {
	t.Helper()
	by := map[string]Result{}
	for _, r := range got {
		if r.Cluster == cluster {
			by[r.Site] = r
		}
	}
	for site, w := range wants {
		r, ok := by[site]
		if !ok {
			t.Errorf("%s/%s: no result", cluster, site)
			continue
		}
		var reasons []string
		for _, x := range r.Reasons {
			reasons = append(reasons, x.Reason)
		}
		if r.Status != w.status || strings.Join(r.Path, " ") != w.path || strings.Join(reasons, " ") != w.reasons {
			t.Errorf("%s/%s: got status=%s path=%q reasons=%q, want status=%s path=%q reasons=%q\n%+v",
				cluster, site, r.Status, strings.Join(r.Path, " "), strings.Join(reasons, " "), w.status, w.path, w.reasons, r.Reasons)
		}
		for app, wa := range w.apps {
			a := r.Apps[app]
			if g := a.DC + ":" + a.Reason; g != wa {
				t.Errorf("%s/%s app %s: got %s (%s), want %s", cluster, site, app, g, a.Detail, wa)
			}
		}
	}
}

func TestResolve(t *testing.T) {
	editedSeeds := strings.Replace(seeds, "ulsfo: codfw", "ulsfo: eqiad", 1)
	listSeeds := strings.Replace(seeds, "ulsfo: codfw", "ulsfo: [codfw, eqiad]", 1)
	tests := []struct {
		name   string
		config string
		state  string
		want   map[string]want
	}{
		{name: "seeds, all up", config: seeds, want: map[string]want{
			"eqiad": {StatusOK, "eqiad", "configured", map[string]string{"appservers": "eqiad:configured", "api": "eqiad:configured", "restbase": "eqiad:configured"}},
			"codfw": {StatusOK, "codfw eqiad", "configured configured", map[string]string{"restbase": "codfw:configured"}},
			"ulsfo": {StatusOK, "ulsfo codfw eqiad", "configured configured configured", map[string]string{"restbase": "codfw:configured", "appservers": "eqiad:configured"}},
			"esams": {StatusOK, "esams eqiad", "configured configured", map[string]string{"restbase": "eqiad:configured"}},
		}},
		{name: "seeds' codfw outage edit (ulsfo: eqiad)", config: editedSeeds, want: map[string]want{
			"ulsfo": {StatusOK, "ulsfo eqiad", "configured configured", nil},
			"codfw": {StatusOK, "codfw eqiad", "configured configured", nil},
		}},
		{name: "codfw DOWN: single-name table falls back to the nearest", config: seeds, state: "site/codfw => DOWN", want: map[string]want{
			"ulsfo": {StatusOK, "ulsfo eqiad", "nearest configured", map[string]string{"restbase": "eqiad:configured", "api": "eqiad:configured"}},
			"esams": {StatusOK, "esams eqiad", "configured configured", nil},
			// A DOWN entry site still gets a route: clients with stale DNS arrive there.
			"codfw": {StatusOK, "codfw eqiad", "configured configured", nil},
		}},
		{name: "codfw DOWN: ordered list falls back", config: listSeeds, state: "site/codfw => DOWN", want: map[string]want{
			"ulsfo": {StatusOK, "ulsfo eqiad", "fallback configured", nil},
		}},
		{name: "last admin_state line wins", config: listSeeds, state: "site/* => DOWN\nsite/eqiad => UP\nsite/ulsfo => UP", want: map[string]want{
			"ulsfo": {StatusOK, "ulsfo eqiad", "fallback configured", nil},
		}},
		{name: "geoip keys are ignored", config: seeds, state: "geoip/*/codfw => DOWN", want: map[string]want{
			"ulsfo": {StatusOK, "ulsfo codfw eqiad", "configured configured configured", nil},
		}},
		{name: "eqiad DOWN: codfw promoted to direct", config: seeds, state: "site/eqiad => DOWN", want: map[string]want{
			// appservers (route: eqiad only) has no valid DC: the paths are valid but degraded.
			"codfw": {StatusDegraded, "codfw", "promoted-to-direct", map[string]string{"appservers": ":unreachable", "api": "codfw:fallback", "restbase": "codfw:configured"}},
			"ulsfo": {StatusDegraded, "ulsfo codfw", "configured promoted-to-direct", nil},
			"esams": {StatusDegraded, "esams codfw", "nearest promoted-to-direct", map[string]string{"restbase": "codfw:configured"}},
			"eqiad": {StatusDegraded, "eqiad", "configured", map[string]string{"restbase": "codfw:nearest", "api": "codfw:fallback"}},
		}},
		{name: "eqiad and codfw DOWN: nothing valid remains", config: seeds, state: "site/eqiad => DOWN\nsite/codfw => DOWN", want: map[string]want{
			"ulsfo": {StatusUnreachable, "ulsfo", "unreachable", map[string]string{"api": ":unreachable"}},
			"esams": {StatusUnreachable, "esams", "unreachable", nil},
		}},
		{name: "ulsfo and codfw DOWN", config: listSeeds, state: "site/ulsfo => DOWN\nsite/codfw => DOWN", want: map[string]want{
			"esams": {StatusOK, "esams eqiad", "configured configured", nil},
			"ulsfo": {StatusOK, "ulsfo eqiad", "fallback configured", nil},
		}},
		{name: "traffic_shutdown", config: strings.Replace(seeds, "    apps:", "    traffic_shutdown: [ulsfo]\n    apps:", 1), want: map[string]want{
			"ulsfo": {StatusShutdown, "ulsfo", "shutdown", map[string]string{"api": ":shutdown"}},
			"codfw": {StatusOK, "codfw eqiad", "configured configured", nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Resolve(mustParse(t, tt.config), mustState(t, tt.state))
			check(t, got, "text", tt.want)
		})
	}
}

// A site whose first choice is up but cut off from direct uses its next
// configured choice rather than a detour through the cut-off site.
func TestFallbackSkipsCutOffChoice(t *testing.T) {
	cfg := mustParse(t, `
sites:
  a: {coords: [0, 0]}
  b: {coords: [0, 1]}
  c: {coords: [0, 2]}
  d: {coords: [0, 3]}
clusters:
  x:
    route_table: {a: direct, d: direct, c: d, b: [c, a]}
`)
	got := Resolve(cfg, mustState(t, "site/d => DOWN"))
	check(t, got, "x", map[string]want{
		"b": {StatusOK, "b a", "fallback configured", nil},
		// c has no backends: nearest usable is b (1 degree away), whose path uses no nearest jump.
		"c": {StatusOK, "c b a", "nearest fallback configured", nil},
	})
	// c is rerouted through b, so it is not a usable choice for b: taking
	// it would loop (b > c > b).
	for _, r := range got {
		if r.Site == "b" && !strings.Contains(r.Reasons[0].Detail, "c's route comes back through b (c > b)") {
			t.Errorf("detail does not say why c was skipped: %q", r.Reasons[0].Detail)
		}
	}
}

func TestActiveActiveNearestWhenNoneOnPath(t *testing.T) {
	src := strings.Replace(seeds, "route: {active-active: [eqiad, codfw]}\n        backends: {eqiad: rb.eqiad, codfw: rb.codfw}",
		"route: {active-active: [ulsfo, codfw]}\n        backends: {ulsfo: rb.ulsfo, codfw: rb.codfw}", 1)
	got := Resolve(mustParse(t, src), nil)
	check(t, got, "text", map[string]want{
		// esams -> eqiad: neither ulsfo nor codfw is on the path; codfw is nearest to eqiad.
		"esams": {StatusOK, "esams eqiad", "configured configured", map[string]string{"restbase": "codfw:nearest"}},
		// ulsfo -> codfw -> eqiad: ulsfo is met first.
		"ulsfo": {StatusOK, "ulsfo codfw eqiad", "configured configured configured", map[string]string{"restbase": "ulsfo:configured"}},
	})
}

// Resolution must be a pure function: same inputs, same outputs, inputs untouched.
func TestResolvePure(t *testing.T) {
	cfg := mustParse(t, seeds)
	st := mustState(t, "site/eqiad => DOWN")
	a, b := Resolve(cfg, st), Resolve(cfg, st)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two resolutions differ")
	}
	if st.Len() != 1 || len(cfg.Clusters["text"].Routes) != 4 {
		t.Fatal("inputs modified")
	}
}

func TestDistance(t *testing.T) {
	eqiad, codfw := Site{Lat: 39.04, Lon: -77.49}, Site{Lat: 32.90, Lon: -97.04}
	if d := DistanceKm(eqiad, codfw); d < 1850 || d > 1900 {
		t.Fatalf("eqiad-codfw = %.0f km, want about 1880", d)
	}
	if d := DistanceKm(Site{Lat: 0, Lon: 179}, Site{Lat: 0, Lon: -179}); d > 250 {
		t.Fatalf("across the antimeridian = %.0f km, want about 222", d)
	}
}

// Promotion needs an up site that some app's route names as a DC: a
// backend no route uses, or a DOWN DC, is not enough.
func TestPromotionNeedsAnUpRoutedDC(t *testing.T) {
	const base = `
sites:
  eqiad: {coords: [39.04, -77.49]}
  codfw: {coords: [32.90, -97.04]}
  ulsfo: {coords: [37.78, -122.39]}
clusters:
  text:
    route_table: {eqiad: direct, codfw: eqiad, ulsfo: codfw}
    apps:
      appservers: {route: ROUTE, backends: {eqiad: app.eqiad, codfw: app.codfw}}
`
	tests := []struct {
		name, route, state string
		want               map[string]want
	}{
		{"backend in no route: not promoted", "eqiad", "site/eqiad => DOWN", map[string]want{
			"codfw": {StatusUnreachable, "codfw", "unreachable", map[string]string{"appservers": ":unreachable"}},
			"ulsfo": {StatusUnreachable, "ulsfo", "unreachable", nil},
		}},
		{"DC of a route: promoted", "[eqiad, codfw]", "site/eqiad => DOWN", map[string]want{
			"codfw": {StatusOK, "codfw", "promoted-to-direct", map[string]string{"appservers": "codfw:fallback"}},
			"ulsfo": {StatusOK, "ulsfo codfw", "configured promoted-to-direct", nil},
		}},
		{"DOWN DC of a route: not promoted", "[eqiad, codfw]", "site/eqiad => DOWN\nsite/codfw => DOWN", map[string]want{
			"codfw": {StatusUnreachable, "codfw", "unreachable", nil},
			"ulsfo": {StatusUnreachable, "ulsfo", "unreachable", nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Resolve(mustParse(t, strings.Replace(base, "ROUTE", tt.route, 1)), mustState(t, tt.state))
			check(t, got, "text", tt.want)
		})
	}
	got := Resolve(mustParse(t, strings.Replace(base, "ROUTE", "eqiad", 1)), mustState(t, "site/eqiad => DOWN"))
	for _, r := range got {
		if r.Site == "codfw" && !strings.Contains(r.Reasons[0].Detail, "no app's route names codfw as a DC") {
			t.Errorf("codfw detail does not say why it was not promoted: %q", r.Reasons[0].Detail)
		}
	}
}

// Two readings of the issue are possible; these cases differ between them,
// so the documented one is pinned.
func TestInterpretationsPinned(t *testing.T) {
	const src = `
sites:
  eqiad: {coords: [39.04, -77.49]}
  codfw: {coords: [32.90, -97.04]}
  ulsfo: {coords: [37.78, -122.39]}
  esams: {coords: [52.31, 4.94]}
  drmrs: {coords: [43.30, 5.37]}
clusters:
  text:
    route_table: {eqiad: direct, ulsfo: direct, codfw: eqiad, esams: eqiad, drmrs: eqiad}
    apps:
      api: {route: [eqiad, codfw, ulsfo], backends: {eqiad: api.eqiad, codfw: api.codfw, ulsfo: api.ulsfo}}
      rb: {route: {active-active: [codfw, esams]}, backends: {codfw: rb.codfw, esams: rb.esams}}
`
	cfg := mustParse(t, src)
	tests := []struct {
		name, state string
		want        map[string]want
	}{
		// Promotion is tried before nearest: codfw, whose only choice eqiad
		// is DOWN, becomes direct itself although ulsfo (direct, up) is a
		// usable nearest site. Nearest first would give "codfw ulsfo".
		{"promotion before nearest", "site/eqiad => DOWN", map[string]want{
			"codfw": {StatusOK, "codfw", "promoted-to-direct", map[string]string{"api": "codfw:fallback"}},
		}},
		// Active-active "nearest" is measured from the path's direct site:
		// drmrs enters and goes to eqiad; neither codfw nor esams is on the
		// path; codfw is nearest to eqiad (1880 km; esams 6200 km). From
		// the entry site drmrs, esams (about 1000 km) would win.
		{"active-active nearest from the direct site", "", map[string]want{
			"drmrs": {StatusOK, "drmrs eqiad", "configured configured", map[string]string{"rb": "codfw:nearest"}},
			// esams is on its own path: met first, whatever is nearest.
			"esams": {StatusOK, "esams eqiad", "configured configured", map[string]string{"rb": "esams:configured"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Resolve(cfg, mustState(t, tt.state)), "text", tt.want)
		})
	}
}
