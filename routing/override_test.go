package routing

import (
	"github.com/geotraffic/geotraffic/internal/conf"

	"errors"
	"reflect"
	"strings"
	"testing"
)

// routes and apps build Overrides compactly for the text cluster.
func routes(kv ...any) map[string]map[string]RouteSpec {
	m := map[string]RouteSpec{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(RouteSpec)
	}
	return map[string]map[string]RouteSpec{"text": m}
}

func apps(kv ...any) map[string]map[string]AppRouteSpec {
	m := map[string]AppRouteSpec{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(AppRouteSpec)
	}
	return map[string]map[string]AppRouteSpec{"text": m}
}

func via(sites ...string) RouteSpec { return RouteSpec{Choices: sites} }

var direct = RouteSpec{Direct: true}

func TestWithOverrides(t *testing.T) {
	noEsams := strings.Replace(seeds, "      esams: eqiad\n", "", 1) // esams stays under sites:
	// codfw may go through esams, which the override sends to ulsfo.
	chain := strings.Replace(seeds, "      codfw: eqiad\n", "      codfw: [esams, eqiad]\n", 1)
	tests := []struct {
		name   string
		config string
		ov     Overrides
		state  string
		want   map[string]want // text cluster, when accepted
		errs   []string        // each in the error, when refused
	}{
		{name: "ulsfo goes to eqiad", config: seeds, ov: Overrides{Routes: routes("ulsfo", via("eqiad"))},
			want: map[string]want{"ulsfo": {status: "ok", path: "ulsfo eqiad", reasons: "configured configured"}}},
		{name: "an ordered list", config: seeds, ov: Overrides{Routes: routes("ulsfo", via("esams", "eqiad"))}, state: "site/esams => DOWN",
			want: map[string]want{"ulsfo": {status: "ok", path: "ulsfo eqiad", reasons: "fallback configured"}}},
		{name: "codfw made direct", config: seeds, ov: Overrides{Routes: routes("codfw", direct)},
			want: map[string]want{"ulsfo": {status: "ok", path: "ulsfo codfw", reasons: "configured configured",
				apps: map[string]string{"appservers": "eqiad:configured", "restbase": "codfw:configured"}}}},
		{name: "an entry added for a known site", config: noEsams, ov: Overrides{Routes: routes("esams", via("eqiad"))},
			want: map[string]want{"esams": {status: "ok", path: "esams eqiad", reasons: "configured configured"}}},
		{name: "app goes active-active", config: seeds, state: "site/eqiad => DOWN",
			ov: Overrides{AppRoutes: apps("appservers", AppRouteSpec{Mode: ActiveActive, DCs: []string{"eqiad", "codfw"}})},
			want: map[string]want{"ulsfo": {status: "ok", path: "ulsfo codfw", reasons: "configured promoted-to-direct",
				apps: map[string]string{"appservers": "codfw:configured"}}}},
		{name: "loop of two overrides", config: seeds, ov: Overrides{Routes: routes("ulsfo", via("codfw"), "codfw", via("ulsfo"))},
			errs: []string{"clusters.text.route_table.codfw (override): loop: codfw -> ulsfo -> codfw"}},
		{name: "loop closed in the file is reported at the override", config: chain, ov: Overrides{Routes: routes("esams", via("ulsfo"))},
			errs: []string{"clusters.text.route_table.esams (override): loop: esams -> ulsfo -> codfw -> esams"}},
		{name: "self loop", config: seeds, ov: Overrides{Routes: routes("ulsfo", via("ulsfo"))},
			errs: []string{"clusters.text.route_table.ulsfo (override): loop: ulsfo routes to itself"}},
		{name: "no direct site", config: seeds, ov: Overrides{Routes: routes("eqiad", via("codfw"), "codfw", via("esams"), "esams", via("ulsfo"), "ulsfo", via("eqiad"))},
			errs: []string{"clusters.text.route_table (override): no site is direct once overridden (codfw, eqiad, esams, ulsfo)",
				"clusters.text.route_table.codfw (override): loop: codfw -> esams -> ulsfo -> eqiad -> codfw"}},
		{name: "unknown site as a choice", config: seeds, ov: Overrides{Routes: routes("ulsfo", via("drmrs"))},
			errs: []string{`clusters.text.route_table.ulsfo (override): unknown site "drmrs" (not under sites:)`}},
		{name: "unknown entry site", config: seeds, ov: Overrides{Routes: routes("drmrs", via("eqiad"))},
			errs: []string{`clusters.text.route_table.drmrs (override): unknown site "drmrs" (not under sites:)`}},
		{name: "next hop without an entry", config: noEsams, ov: Overrides{Routes: routes("ulsfo", via("esams"))},
			errs: []string{`clusters.text.route_table.ulsfo (override): next hop "esams" has no route_table entry in cluster text`}},
		{name: "unknown cluster", config: seeds, ov: Overrides{Routes: map[string]map[string]RouteSpec{"txet": {"ulsfo": direct}}},
			errs: []string{`clusters.txet (override): unknown cluster "txet" (clusters: text)`}},
		{name: "unknown app", config: seeds, ov: Overrides{AppRoutes: apps("apii", AppRouteSpec{Mode: Ordered, DCs: []string{"eqiad"}})},
			errs: []string{`clusters.text.apps.apii (override): unknown app "apii" (apps: api, appservers, restbase)`}},
		{name: "app DC without backend", config: seeds, ov: Overrides{AppRoutes: apps("api", AppRouteSpec{Mode: Ordered, DCs: []string{"esams"}})},
			errs: []string{`clusters.text.apps.api.route (override): DC "esams" has no backend under backends:`}},
		{name: "hand-built specs are checked too", config: seeds,
			ov: Overrides{Routes: routes("ulsfo", RouteSpec{Direct: true, Choices: []string{"eqiad"}}, "esams", via(), "codfw", via("eqiad", "eqiad")),
				AppRoutes: apps("api", AppRouteSpec{DCs: []string{"eqiad"}}, "restbase", AppRouteSpec{Mode: Ordered, DCs: []string{""}})},
			errs: []string{"clusters.text.route_table.ulsfo (override): both direct and choices",
				"clusters.text.route_table.esams (override): empty list of choices",
				`clusters.text.route_table.codfw (override): choice "eqiad" is listed twice`,
				`clusters.text.apps.api.route (override): unknown mode ""`,
				"clusters.text.apps.restbase.route (override): expected a name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustParse(t, tt.config).WithOverrides(tt.ov)
			if tt.errs != nil {
				checkOverrideErr(t, got, err, tt.errs)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			check(t, Resolve(got, mustState(t, tt.state)), "text", tt.want)
		})
	}
}

func checkOverrideErr(t *testing.T, got *Config, err error, wants []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted: %+v", got)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	var e *conf.Error
	if !errors.As(err, &e) {
		t.Fatalf("not a *conf.Error: %#v", err)
	}
	if _, over := OverrideKey(e); !over || e.Pos != (conf.Pos{}) {
		t.Errorf("first error is not an override *Error: %#v", err)
	}
}

func TestWithOverridesLeavesInputAlone(t *testing.T) {
	cfg, ref := mustParse(t, seeds), mustParse(t, seeds)
	got, err := cfg.WithOverrides(Overrides{
		Routes:    routes("ulsfo", via("eqiad"), "codfw", direct),
		AppRoutes: apps("api", AppRouteSpec{Mode: ActiveActive, DCs: []string{"codfw", "eqiad"}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, ref) {
		t.Fatal("WithOverrides modified its input")
	}
	if r := got.Clusters["text"].Routes["ulsfo"]; !r.Override || r.Line != 0 || r.Choices[0] != "eqiad" {
		t.Errorf("override route: %+v", r)
	}
	if r := got.Clusters["text"].Routes["esams"]; r.Override || r.Line == 0 {
		t.Errorf("file route marked as an override: %+v", r)
	}
	if a := got.Clusters["text"].Apps["api"]; !a.Override || a.Mode != ActiveActive || a.Backends["codfw"] != "api.codfw" {
		t.Errorf("override app: %+v", a)
	}
	// Only Resolve's own view of the input changes: not at all.
	if !reflect.DeepEqual(Resolve(cfg, nil), Resolve(ref, nil)) {
		t.Error("the input resolves differently")
	}
}

func TestWithOverridesWarnings(t *testing.T) {
	cfg := mustParse(t, seeds) // appservers: route eqiad, backends eqiad and codfw
	tests := []struct {
		name string
		ov   Overrides
		want []string
	}{
		{"file warning kept", Overrides{}, []string{`routing.yaml:17: clusters.text.apps.appservers.backends.codfw: backend app.codfw is never used: "codfw" is not in the app's route,`}},
		{"override uses the backend", Overrides{AppRoutes: apps("appservers", AppRouteSpec{Mode: Ordered, DCs: []string{"eqiad", "codfw"}})}, nil},
		{"override leaves a backend unused", Overrides{AppRoutes: apps("appservers", AppRouteSpec{Mode: Ordered, DCs: []string{"eqiad", "codfw"}},
			"api", AppRouteSpec{Mode: Ordered, DCs: []string{"codfw"}})},
			[]string{`routing.yaml:20: clusters.text.apps.api.backends.eqiad: backend api.eqiad is never used: "eqiad" is not in the app's overridden route,`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cfg.WithOverrides(tt.ov)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Warnings) != len(tt.want) {
				t.Fatalf("warnings: %v", got.Warnings)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got.Warnings[i].Error(), w) {
					t.Errorf("warning %d: %q, want prefix %q", i, got.Warnings[i], w)
				}
			}
		})
	}
}

// Problems of the file, of values (whose caller names their source) and
// of overrides (no file or line: the key is marked) print in one form.
func TestErrorForms(t *testing.T) {
	file := &errList{file: "routing.yaml"}
	file.add(3, "sites.x", "bad")
	file.add(1, "", "empty file")
	over := &errList{file: "routing.yaml"}
	over.add(overrideLine, "clusters.text.route_table.ulsfo", "loop: a -> b -> a")
	value := &errList{}
	value.add(1, "route", "missing")
	syntax := &errList{}
	syntax.add(1, "", "invalid JSON: x")
	tests := []struct {
		got  error
		want string
	}{
		{file.err(), "routing.yaml:1: empty file\nrouting.yaml:3: sites.x: bad"},
		{valueError(value), "route: missing"},
		{valueError(syntax), "invalid JSON: x"},
		{over.err(), "clusters.text.route_table.ulsfo (override): loop: a -> b -> a"},
	}
	for _, tt := range tests {
		if got := tt.got.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
