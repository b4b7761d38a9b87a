package geo

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const okMap = `maps:
  m:
    datacenters: [a, b]
resources:
  r: {map: m, dcmap: {a: 192.0.2.1, b: 192.0.2.2}}
`

// lineOf is the 1-based line of the first occurrence of marker in text.
func lineOf(t *testing.T, text, marker string) int {
	t.Helper()
	i := strings.Index(text, marker)
	if i < 0 {
		t.Fatalf("marker %q not in test YAML", marker)
	}
	return strings.Count(text[:i], "\n") + 1
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	writeDB(t, dir, "country.mmdb", "Test-Country", autoRows)
	writeDB(t, dir, "city.mmdb", "Test-City", autoRows)
	for _, tc := range []struct {
		name, text, marker, key, reason string
	}{
		{"unknown top key", okMap + "bogus: 1\n", "bogus", "geoip.bogus", "unknown key"},
		{"unknown map key", "maps:\n  m:\n    datacenters: [a]\n    city_no_region: true\n", "city_no_region", "geoip.maps.m.city_no_region", "unknown key"},
		{"datacenters required", "maps:\n  m:\n    nets: {10.0.0.0/8: [a]}\n", "m:", "geoip.maps.m.datacenters", "required"},
		{"duplicate datacenter", "maps:\n  m:\n    datacenters: [a, b, a]\n", "datacenters", "geoip.maps.m.datacenters", `"a" listed twice`},
		{"auto is reserved", "maps:\n  m:\n    datacenters: [a, auto]\n", "datacenters", "geoip.maps.m.datacenters", "reserved"},
		{"map needs geoip2_db", "maps:\n  m:\n    datacenters: [a]\n    map: {EU: [a]}\n", "map:", "geoip.maps.m.map", "needs geoip2_db"},
		{"unknown DC in map", "maps:\n  m:\n    geoip2_db: city.mmdb\n    datacenters: [a]\n    map:\n      EU:\n        FR: [a, zz]\n", "FR:", "geoip.maps.m.map.EU.FR", `"zz" is not in datacenters`},
		{"auto needs coords", "maps:\n  m:\n    geoip2_db: city.mmdb\n    datacenters: [a]\n    map: {EU: auto}\n", "map:", "geoip.maps.m.map.EU", "auto needs auto_dc_coords"},
		{"nested default", "maps:\n  m:\n    geoip2_db: city.mmdb\n    datacenters: [a]\n    map:\n      EU:\n        default: {FR: [a]}\n", "default", "geoip.maps.m.map.EU.default", "not a nested map"},
		{"case-insensitive duplicate", "maps:\n  m:\n    geoip2_db: city.mmdb\n    datacenters: [a]\n    map:\n      EU: [a]\n      eu: [a]\n", "eu:", "geoip.maps.m.map.eu", "duplicate key (first at line 6)"},
		{"empty value", "maps:\n  m:\n    geoip2_db: city.mmdb\n    datacenters: [a]\n    map:\n      EU:\n", "EU:", "geoip.maps.m.map.EU", "use [] for NODATA"},
		{"bad net", "maps:\n  m:\n    datacenters: [a]\n    nets:\n      10.0.0.0/33: [a]\n", "10.0.0.0/33", "geoip.maps.m.nets.10.0.0.0/33", "expected ADDRESS/LENGTH"},
		{"net in v4-mapped space", "maps:\n  m:\n    datacenters: [a]\n    nets:\n      \"::ffff:10.0.0.0/104\": [a]\n", "::ffff", "geoip.maps.m.nets.::ffff:10.0.0.0/104", "inside ::ffff:0:0/96 (IPv4-mapped)"},
		{"net in 6to4 space", "maps:\n  m:\n    datacenters: [a]\n    nets:\n      \"2002:a00::/24\": [a]\n", "2002", "geoip.maps.m.nets.2002:a00::/24", "6to4"},
		{"auto in nets", "maps:\n  m:\n    datacenters: [a]\n    auto_dc_coords: {a: [1, 2]}\n    geoip2_db: city.mmdb\n    nets: {10.0.0.0/8: auto}\n", "nets", "geoip.maps.m.nets.10.0.0.0/8", "auto is not allowed"},
		{"missing nets file", "maps:\n  m:\n    datacenters: [a]\n    nets: nope.txt\n", "nets", "geoip.maps.m.nets", "no such file"},
		{"bad coords", "maps:\n  m:\n    geoip2_db: city.mmdb\n    datacenters: [a]\n    auto_dc_coords:\n      a: [91, 0]\n", "a: [91", "geoip.maps.m.auto_dc_coords.a", "latitude must be within"},
		{"coords for unknown DC", "maps:\n  m:\n    geoip2_db: city.mmdb\n    datacenters: [a]\n    auto_dc_coords:\n      b: [1, 0]\n", "b: [1", "geoip.maps.m.auto_dc_coords.b", "not in datacenters"},
		{"limit without coords", "maps:\n  m:\n    datacenters: [a]\n    auto_dc_limit: 2\n", "auto_dc_limit", "geoip.maps.m.auto_dc_limit", "needs auto_dc_coords"},
		{"negative limit", "maps:\n  m:\n    geoip2_db: city.mmdb\n    datacenters: [a]\n    auto_dc_coords: {a: [1, 2]}\n    auto_dc_limit: -1\n", "-1", "geoip.maps.m.auto_dc_limit", "whole number"},
		{"ignore_ecs not bool", "maps:\n  m:\n    datacenters: [a]\n    ignore_ecs: maybe\n", "maybe", "geoip.maps.m.ignore_ecs", "true or false"},
		{"resource map unknown", okMap + "  s: {map: nope, dcmap: {a: 192.0.2.1}}\n", "s: {", "geoip.resources.s.map", `no map named "nope"`},
		{"resource map required", okMap + "  s: {dcmap: {a: 192.0.2.1}}\n", "s: {", "geoip.resources.s.map", "required"},
		{"dcmap incomplete", okMap + "  s:\n    map: m\n    dcmap: {a: 192.0.2.1}\n", "    dcmap: {a: 192.0.2.1}\n", "geoip.resources.s.dcmap", "no entry for b"},
		{"dcmap unknown DC", okMap + "  s:\n    map: m\n    dcmap:\n      a: 192.0.2.1\n      b: 192.0.2.1\n      c: 192.0.2.1\n", "c: 192", "geoip.resources.s.dcmap.c", `"c" is not a data centre of map "m"`},
		{"dcmap not a name", okMap + "  s:\n    map: m\n    dcmap:\n      a: 192.0.2.1\n      b: lb.example.net\n", "lb.example", "geoip.resources.s.dcmap.b", "ending in '.'"},
		{"dcmap plugin reference without plugin", okMap + "  s:\n    map: m\n    dcmap:\n      a: 192.0.2.1\n      b: \"%!x\"\n", "%!x", "geoip.resources.s.dcmap.b", "names no plugin"},
		{"dcmap synthesizes geoip", okMap + "  s:\n    map: m\n    dcmap:\n      a: {plugin: geoip, x: 192.0.2.1}\n      b: 192.0.2.1\n", "plugin: geoip", "geoip.resources.s.dcmap.a.plugin", "cannot synthesize a resource of its own plugin"},
		{"dcmap synthesizes reflect", okMap + "  s:\n    map: m\n    plugin: reflect\n    dcmap:\n      a: {x: 1}\n      b: 192.0.2.1\n", "reflect", "geoip.resources.s.plugin", "takes no resource configuration"},
		{"dcmap mixed families", okMap + "  s:\n    map: m\n    dcmap:\n      a: [192.0.2.1, \"2001:db8::1\"]\n      b: 192.0.2.1\n", "a: [192", "geoip.resources.s.dcmap.a", "one family"},
		{"dcmap wrong family", okMap + "  s:\n    map: m\n    dcmap:\n      a: {addrs_v4: [\"2001:db8::1\"]}\n      b: 192.0.2.1\n", "a: {", "geoip.resources.s.dcmap.a.addrs_v4", "not an IPv4 address"},
		{"dcmap unknown addrs key", okMap + "  s:\n    map: m\n    dcmap:\n      a: {addrs: [192.0.2.1]}\n      b: 192.0.2.1\n", "a: {", "geoip.resources.s.dcmap.a.addrs", "expected an IP address"},
		{"resource unknown key", okMap + "  s:\n    map: m\n    ignore_hlth: true\n    dcmap: {a: 192.0.2.1, b: 192.0.2.1}\n", "ignore_hlth", "geoip.resources.s.ignore_hlth", "unknown key"},
		{"up_thresh range", okMap + "  s:\n    map: m\n    up_thresh: 0\n    dcmap: {a: 192.0.2.1, b: 192.0.2.1}\n", "up_thresh", "geoip.resources.s.up_thresh", "expected a fraction in (0, 1]"},
		{"up_thresh above 1", okMap + "  s:\n    map: m\n    up_thresh: 1.5\n    dcmap: {a: 192.0.2.1, b: 192.0.2.1}\n", "up_thresh", "geoip.resources.s.up_thresh", "expected a fraction"},
		{"service type twice", okMap + "  s:\n    map: m\n    service_types: [x, x]\n    dcmap: {a: 192.0.2.1, b: 192.0.2.1}\n", "service_types", "geoip.resources.s.service_types", `"x" listed twice`},
		{"service type not a name", okMap + "  s:\n    map: m\n    service_types: [[x]]\n    dcmap: {a: 192.0.2.1, b: 192.0.2.1}\n", "service_types", "geoip.resources.s.service_types", "expected a service type name"},
		{"monitored CNAME", okMap + "  s:\n    map: m\n    service_types: [www_http]\n    dcmap:\n      a: 192.0.2.1\n      b: lb.example.net.\n", "lb.example", "geoip.resources.s.dcmap.b", "a CNAME target cannot be health-checked"},
		{"no maps", "resources: {}\n", "resources", "geoip.maps", "at least one map"},
	} {
		_, err := parseYAML(t, dir, tc.text)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		want := fmt.Sprintf("test.yaml:%d: %s: ", lineOf(t, tc.text, tc.marker), tc.key)
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: error %q\nwant it to contain %q and %q", tc.name, err, want, tc.reason)
		}
	}
}

func TestConfigErrorsAreJoined(t *testing.T) {
	text := "maps:\n  m:\n    datacenters: [a]\n    bogus: 1\n  n:\n    datacenters: [b]\n    nets: {300.0.0.0/8: [b]}\n"
	_, err := parseYAML(t, t.TempDir(), text)
	if err == nil || !strings.Contains(err.Error(), "test.yaml:4: geoip.maps.m.bogus") || !strings.Contains(err.Error(), "test.yaml:7: geoip.maps.n.nets.300.0.0.0/8") {
		t.Errorf("want both errors, got %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	writeDB(t, dir, "country.mmdb", "Test-Country", autoRows)
	for _, tc := range []struct{ name, text, want string }{
		{"missing DB", "maps:\n  m:\n    geoip2_db: nope.mmdb\n    datacenters: [a]\n",
			"test.yaml:3: geoip.maps.m.geoip2_db: open " + filepath.Join(dir, "nope.mmdb")},
		{"auto needs City", "maps:\n  m:\n    geoip2_db: country.mmdb\n    datacenters: [a]\n    auto_dc_coords: {a: [1, 2]}\n",
			`test.yaml:3: geoip.maps.m.geoip2_db: auto_dc_coords needs a City database; ` + filepath.Join(dir, "country.mmdb") + ` has type "Test-Country"`},
		{"not a DB", "maps:\n  m:\n    geoip2_db: test.txt\n    datacenters: [a]\n", "test.yaml:3: geoip.maps.m.geoip2_db: "},
	} {
		if err := os.WriteFile(filepath.Join(dir, "test.txt"), []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := parseYAML(t, dir, tc.text)
		if err != nil {
			t.Fatalf("%s: parse: %v", tc.name, err)
		}
		if _, err := Build(cfg, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestConfigValues(t *testing.T) {
	dir := t.TempDir()
	writeDB(t, dir, "db.mmdb", "Test-City", autoRows)
	cfg, err := parseYAML(t, dir, `
undefined_datacenters_ok: true
maps:
  m:
    geoip2_db: db.mmdb
    datacenters: [a, b]
    map: {EU: {DEFAULT: a, fr: [b]}}
    nets: {10.0.0.0/8: [], "2001:db8::/32": b}
    auto_dc_coords: {a: [1.5, 2.5]}
    auto_dc_limit: 0
    ignore_ecs: true
resources:
  r:
    map: m
    skip_first: true
    dcmap:
      a: {addrs_v4: 192.0.2.1, addrs_v6: ["2001:db8::1", "2001:db8::2"]}
`)
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Maps[0]
	if m.GeoIP2DB != filepath.Join(dir, "db.mmdb") || !m.IgnoreECS || m.AutoDCLimit != 0 || m.AutoDCCoords["a"] != (Coord{1.5, 2.5}) {
		t.Errorf("map: %+v", m)
	}
	eu := m.Map.Children["eu"]
	if eu == nil || eu.Kind != ValueMap || eu.Node.Default == nil || eu.Node.Default.DCs[0] != "a" || eu.Node.Children["fr"].DCs[0] != "b" {
		t.Errorf("map tree: %+v", eu)
	}
	if len(m.Nets) != 2 || len(m.Nets[0].DCs) != 0 || m.Nets[1].DCs[0] != "b" {
		t.Errorf("nets: %+v", m.Nets)
	}
	r := cfg.Resources[0]
	if !cfg.UndefinedDatacentersOK || !r.SkipFirst || len(r.DCMap["a"].V4) != 1 || len(r.DCMap["a"].V6) != 2 {
		t.Errorf("resource: %+v", r)
	}
}

func TestLoadConfigFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "geoip.yaml")
	if err := os.WriteFile(p, []byte(okMap), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfigFile(p)
	if err != nil || cfg.File != p || len(cfg.Maps) != 1 {
		t.Fatalf("%+v %v", cfg, err)
	}
	if err := os.WriteFile(p, []byte("maps: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfigFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("bad YAML: %v", err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfigFile(p); err == nil {
		t.Error("empty file: no error")
	}
}

func TestConfigNoCascadingErrors(t *testing.T) {
	text := "maps:\n  m:\n    datacenters: [a, a]\nresources:\n  r: {map: m, dcmap: {a: 192.0.2.1}}\n"
	_, err := parseYAML(t, t.TempDir(), text)
	if err == nil || strings.Contains(err.Error(), "no map named") || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("want only the datacenters error, got %v", err)
	}
}

func TestServiceTypeReferences(t *testing.T) {
	text := okMap + "  s:\n    map: m\n    service_types: www_http\n    up_thresh: 0.14\n    dcmap:\n      a: 192.0.2.1\n      b: lb.example.net.\n" +
		"  u:\n    map: m\n    service_types: [up, down, edge, nope]\n    dcmap: {a: 192.0.2.1, b: 192.0.2.2}\n"
	_, err := parseYAML(t, t.TempDir(), text)
	if err == nil || !strings.Contains(err.Error(), "a CNAME target cannot be health-checked") {
		t.Fatalf("a scalar service_types is a one-element list and monitors the CNAME: %v", err)
	}
	text = strings.Replace(text, "lb.example.net.", "192.0.2.9", 1)
	cfg, err := parseYAML(t, t.TempDir(), text)
	if err != nil {
		t.Fatal(err)
	}
	r, s := cfg.Resources[0], cfg.Resources[1]
	if !slices.Equal(s.ServiceTypes, []string{"www_http"}) || s.UpThresh != 0.14 || r.UpThresh != DefaultUpThresh || len(r.ServiceTypes) != 0 {
		t.Errorf("resources: %+v %+v", r, s)
	}
	err = cfg.CheckServiceTypes(func(n string) bool { return n == "www_http" || n == "edge" })
	want := fmt.Sprintf("test.yaml:%d: geoip.resources.u.service_types: no service type \"nope\"", lineOf(t, text, "[up, down"))
	if err == nil || err.Error() != want+" (declare it under service_types in authdns.yaml; up and down are built in)" {
		t.Errorf("got %v, want %s", err, want)
	}
	if err := cfg.CheckServiceTypes(func(string) bool { return true }); err != nil {
		t.Error(err)
	}
}

// Top-level service_types and up_thresh are every resource's default, as
// gdnsd's geoip plugin passes them down; a resource's own replace them.
func TestServiceTypesInherited(t *testing.T) {
	text := "service_types: [http]\nup_thresh: 0.25\n" + okMap +
		"  s:\n    map: m\n    service_types: [tcp]\n    up_thresh: 1\n    dcmap: {a: 192.0.2.1, b: 192.0.2.2}\n" +
		"  t: {map: m, dcmap: {a: 192.0.2.1, b: 192.0.2.2}}\n"
	cfg, err := parseYAML(t, t.TempDir(), text)
	if err != nil {
		t.Fatal(err)
	}
	r, s := cfg.Resources[0], cfg.Resources[1]
	if !slices.Equal(r.ServiceTypes, []string{"http"}) || r.UpThresh != 0.25 || !slices.Equal(s.ServiceTypes, []string{"tcp"}) || s.UpThresh != 1 {
		t.Errorf("r %v %v, s %v %v", r.ServiceTypes, r.UpThresh, s.ServiceTypes, s.UpThresh)
	}
	err = cfg.CheckServiceTypes(func(n string) bool { return n == "tcp" })
	if err == nil || !strings.HasPrefix(err.Error(), "test.yaml:1: geoip.service_types: no service type \"http\"") || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("an undeclared inherited type is reported where it is written: %v", err)
	}
}
