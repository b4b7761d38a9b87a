package routing

import (
	"github.com/geotraffic/geotraffic/internal/conf"

	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sitesBlock = `sites:
  eqiad: {coords: [39.04, -77.49]}
  codfw: {coords: [32.90, -97.04]}
  ulsfo: {coords: [37.78, -122.39]}
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // each must appear in the error
	}{
		{"empty file", "", []string{"routing.yaml:1: empty file"}},
		{"syntax", "sites: [\n", []string{"routing.yaml:1: YAML syntax"}},
		{"unknown top key", sitesBlock + "clusters: {}\nextra: 1\n", []string{
			"routing.yaml:6: extra: unknown key", "routing.yaml:5: clusters: empty"}},
		{"unknown site key", "sites:\n  eqiad: {coords: [1, 2], colour: red}\nclusters: {}\n", []string{
			"routing.yaml:2: sites.eqiad.colour: unknown key"}},
		{"bad coords", "sites:\n  eqiad: {coords: [91, 2]}\n  codfw: {coords: [x, 2]}\n  ulsfo: {}\nclusters: {}\n", []string{
			"routing.yaml:2: sites.eqiad.coords: latitude must be", `routing.yaml:3: sites.codfw.coords: "x" is not a number`,
			"routing.yaml:4: sites.ulsfo: missing coords"}},
		{"empty route table", sitesBlock + "clusters:\n  text:\n    route_table: {}\n", []string{
			"routing.yaml:7: clusters.text.route_table: empty route_table"}},
		{"missing route table", sitesBlock + "clusters:\n  text:\n    traffic_shutdown: []\n", []string{
			"routing.yaml:6: clusters.text: missing route_table"}},
		{"unknown cluster key", sitesBlock + "clusters:\n  text:\n    route_table: {eqiad: direct}\n    routes: {}\n", []string{
			"routing.yaml:8: clusters.text.routes: unknown key"}},
		{"unknown sites", sitesBlock + `clusters:
  text:
    route_table:
      eqiad: direct
      codfw: [eqiad, drmrs]
      magru: eqiad
`, []string{
			`routing.yaml:9: clusters.text.route_table.codfw: unknown site "drmrs"`,
			`routing.yaml:10: clusters.text.route_table.magru: unknown site "magru"`}},
		{"cannot reach direct", sitesBlock + `clusters:
  text:
    route_table:
      eqiad: direct
      codfw: ulsfo
`, []string{`routing.yaml:9: clusters.text.route_table.codfw: next hop "ulsfo" has no route_table entry in cluster text, so codfw cannot reach direct`}},
		{"loop", sitesBlock + `clusters:
  text:
    route_table:
      eqiad: direct
      codfw: [ulsfo, eqiad]
      ulsfo: codfw
`, []string{"routing.yaml:10: clusters.text.route_table.ulsfo: loop: codfw -> ulsfo -> codfw"}},
		{"self loop", sitesBlock + "clusters:\n  text:\n    route_table: {eqiad: direct, codfw: codfw}\n", []string{
			"routing.yaml:7: clusters.text.route_table.codfw: loop: codfw routes to itself"}},
		{"no direct", sitesBlock + "clusters:\n  text:\n    route_table:\n      eqiad: codfw\n      codfw: eqiad\n", []string{
			"routing.yaml:6: clusters.text.route_table: no site is direct", "loop: codfw -> eqiad -> codfw"}},
		{"direct inside a list", sitesBlock + "clusters:\n  text:\n    route_table:\n      eqiad: direct\n      codfw: [eqiad, direct]\n", []string{
			"routing.yaml:9: clusters.text.route_table.codfw: `direct` must be the whole entry"}},
		{"duplicate key", sitesBlock + "clusters:\n  text:\n    route_table:\n      eqiad: direct\n      eqiad: direct\n", []string{
			"routing.yaml:9: clusters.text.route_table.eqiad: duplicate key (first at line 8)"}},
		{"app DC without backend", sitesBlock + `clusters:
  text:
    route_table: {eqiad: direct}
    apps:
      appservers:
        route: [eqiad, codfw]
        backends: {eqiad: a.eqiad}
      api:
        route: {active-active: [eqiad, drmrs]}
        backends: {eqiad: a.eqiad}
`, []string{
			`routing.yaml:10: clusters.text.apps.appservers.route: DC "codfw" has no backend`,
			`routing.yaml:13: clusters.text.apps.api.route: unknown site "drmrs"`}},
		{"app shape", sitesBlock + `clusters:
  text:
    route_table: {eqiad: direct}
    apps:
      a: {backends: {eqiad: x}}
      b: {route: [], backends: {eqiad: x}}
      c: {route: {active-passive: [eqiad]}, backends: {eqiad: x}}
      d: {route: eqiad, backends: {}, weight: 3}
`, []string{
			"routing.yaml:9: clusters.text.apps.a: missing route",
			"routing.yaml:10: clusters.text.apps.b.route: expected a DC or a non-empty list",
			"routing.yaml:11: clusters.text.apps.c.route.active-passive: unknown key",
			"routing.yaml:12: clusters.text.apps.d.backends: empty",
			"routing.yaml:12: clusters.text.apps.d.weight: unknown key"}},
		{"traffic_shutdown unknown site", sitesBlock + "clusters:\n  text:\n    route_table: {eqiad: direct}\n    traffic_shutdown: [codfw, esams]\n", []string{
			`routing.yaml:8: clusters.text.traffic_shutdown: site "codfw" has no route_table entry`,
			`routing.yaml:8: clusters.text.traffic_shutdown: unknown site "esams"`}},
		{"traffic_shutdown duplicate", sitesBlock + "clusters:\n  text:\n    route_table: {eqiad: direct, codfw: eqiad}\n    traffic_shutdown: [codfw,\n      codfw]\n", []string{
			`routing.yaml:9: clusters.text.traffic_shutdown: site "codfw" is listed twice (first at line 8)`}},
		{"bad names", "sites:\n  direct: {coords: [1, 2]}\n  a/b: {coords: [1, 2]}\nclusters: {}\n", []string{
			`routing.yaml:2: sites.direct: site name "direct" is reserved`,
			`routing.yaml:3: sites.a/b: site name "a/b": use letters`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("routing.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("accepted: %+v", cfg)
			}
			if cfg != nil {
				t.Fatal("a file with errors must be rejected whole")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			var e *conf.Error
			if !errors.As(err, &e) || e.Pos.File != "routing.yaml" || e.Pos.Line == 0 {
				t.Errorf("error is not a located *Error: %#v", err)
			}
		})
	}
}

func TestParseExampleConfig(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "config", "routing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.ClusterNames(), ","); got != "text,upload" {
		t.Fatalf("clusters = %s", got)
	}
	text := cfg.Clusters["text"]
	if r := text.Routes["ulsfo"]; strings.Join(r.Choices, ",") != "codfw,eqiad" || r.Line == 0 {
		t.Fatalf("ulsfo route = %+v", r)
	}
	if a := text.Apps["restbase"]; a.Mode != ActiveActive || strings.Join(a.DCs, ",") != "eqiad,codfw" {
		t.Fatalf("restbase = %+v", a)
	}
	if a := text.Apps["appservers"]; a.Mode != Ordered || a.Backends["eqiad"] != "appservers.svc.eqiad.wmnet" {
		t.Fatalf("appservers = %+v", a)
	}
	if len(cfg.Warnings) != 0 {
		t.Fatalf("the shipped configuration warns: %v", cfg.Warnings)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestAliases(t *testing.T) {
	src := sitesBlock + `clusters:
  text:
    route_table: &rt
      eqiad: direct
      codfw: eqiad
  upload:
    route_table: *rt
`
	cfg := mustParse(t, src)
	if !cfg.Clusters["upload"].Routes["eqiad"].Direct {
		t.Fatal("alias not followed")
	}
}

// A backend that no app route names is accepted with a warning: it is
// never used, and cannot make its DC promotable.
func TestParseWarnsUnusedBackend(t *testing.T) {
	cfg := mustParse(t, sitesBlock+`clusters:
  text:
    route_table: {eqiad: direct, codfw: eqiad}
    apps:
      appservers: {route: eqiad, backends: {eqiad: a.eqiad, codfw: a.codfw}}
      api: {route: [eqiad, codfw], backends: {eqiad: b.eqiad, codfw: b.codfw}}
`)
	var got []string
	for _, w := range cfg.Warnings {
		got = append(got, Warning(w))
	}
	want := `warning: routing.yaml:9: clusters.text.apps.appservers.backends.codfw: backend a.codfw is never used: "codfw" is not in the app's route`
	if len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Fatalf("warnings %q, want one starting %q", got, want)
	}
}

// The line reported must be the problem's own (for a brace left open,
// the brace's), and a second document must not be ignored.
func TestYAMLSyntaxLines(t *testing.T) {
	const four = "sites:\n  eqiad: {coords: [1,2]}\n  codfw: {coords: [1,2]}\n"
	tests := []struct {
		name, src, want string
	}{
		{"brace not closed on line 2", "sites:\n  eqiad: {coords: [1,2]\nclusters:\n", "routing.yaml:2: YAML syntax: ',' or '}' must be specified"},
		{"brace not closed on line 4", four + "  ulsfo: {coords: [1,2]\nclusters:\n  text:\n    route_table: {eqiad: direct}\n", "routing.yaml:4: YAML syntax: ',' or '}' must be specified"},
		{"bad indentation on line 8", four + "  ulsfo: {coords: [1,2]}\nclusters:\n  text:\n    route_table: {eqiad: direct}\n   bad: 1\n", "routing.yaml:8: YAML syntax: value is not allowed in this context"},
		{"tab on line 2", "sites:\n\teqiad: x\n", `routing.yaml:2: YAML syntax: found character '\t' that cannot start any token`},
		{"quote not closed on the last line", "sites: \"abc\n", "routing.yaml:1: YAML syntax: could not find end character of double-quoted text"},
		{"control character on line 1", "sites: \x01\n", "routing.yaml:1: YAML syntax: control characters are not allowed"},
		{"control character on line 4", four + "  x: \x01\n", "routing.yaml:4: YAML syntax: control characters are not allowed"},
		{"second document", "---\nsites: {}\n---\nfoo: 1\n", "routing.yaml:3: a second YAML document (`---`) is not allowed"},
		{"syntax error in a second document", "a: 1\n---\nb: [\n", "routing.yaml:3: YAML syntax: sequence end token ']' not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("routing.yaml", []byte(tt.src))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
	// A single document with a leading --- is fine.
	mustParse(t, "---\n"+seeds)
}
