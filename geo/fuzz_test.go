package geo

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// FuzzParseConfig: any YAML either parses or gives an error; never a panic.
// Configs that parse and need no database must build and resolve.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{okMap, foYAML, walkYAML, autoYAML(""), "maps: {m: {datacenters: [a], nets: {10.0.0.0/8: a}}}",
		"maps:\n  m:\n    datacenters: [a, b]\n    nets: {\"::/0\": [b], 0.0.0.0/0: []}\nresources: {r: {map: m, dcmap: {a: x.example., b: [192.0.2.1]}}}\n",
		pluginGeoYAML, "maps: {m: {datacenters: [a, b]}}\nresources:\n  r: {map: m, dcmap: {a: \"%geoip!r/b\", b: \"%reflect!both\"}}\n",
		"plugin: simplefo\nmaps: {m: {datacenters: [a, b]}}\nresources:\n  r: {map: m, dcmap: {a: {primary: 192.0.2.1, secondary: 192.0.2.2}, b: {plugin: weighted, x: [192.0.2.3, 5]}}}\n",
		"maps: {m: {datacenters: [a]}}\nresources:\n  r: {map: m, dcmap: {a: {plugin: metafo, datacenters: [x], dcmap: {x: \"%null\"}}}}\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		doc, err := conf.DecodeYAML("fuzz.yaml", []byte(text))
		if err != nil {
			return
		}
		cfg, err := ParseConfig("fuzz.yaml", doc, t.TempDir())
		if err != nil {
			return
		}
		for _, m := range cfg.Maps {
			if m.GeoIP2DB != "" {
				return
			}
		}
		buildAndResolve(t, cfg)
	})
}

// FuzzParsePlugins: any `plugins:` YAML either parses or gives an error,
// and builds (with a geoip section referring to it) or gives a located
// error; what builds resolves.
func FuzzParsePlugins(f *testing.F) {
	for _, s := range []string{pluginsYAML, "metafo: {resources: {x: {datacenters: a, dcmap: {a: \"%reflect\"}}}}\n",
		"multifo: {up_thresh: 0.14, w: [192.0.2.1, 192.0.2.2]}\nsimplefo: {s: {addrs_v6: {primary: \"::1\", secondary: \"::2\"}}}\n",
		"weighted: {multi: true, w: {g: {a: [192.0.2.1, 3]}, h: {b: [192.0.2.2, 1048575]}}}\nstatic: {s: x.example.}\nnull: ~\n"} {
		f.Add(s)
	}
	geoip := "maps: {m: {datacenters: [a, b]}}\nresources:\n  r: {map: m, dcmap: {a: \"%metafo!x\", b: \"!w\"}}\n"
	f.Fuzz(func(t *testing.T, text string) {
		doc, err := conf.DecodeYAML("fuzz.yaml", []byte(text))
		if err != nil {
			return
		}
		gdoc, _ := conf.DecodeYAML("geoip.yaml", []byte(geoip))
		cfg, err := ParseConfig("geoip.yaml", gdoc, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ParsePlugins("fuzz.yaml", doc) != nil {
			return
		}
		buildAndResolve(t, cfg)
	})
}

// buildAndResolve builds a parsed config that needs no database: it may
// only fail with located errors (references Build checks); every
// resource of what builds resolves for a few clients.
func buildAndResolve(t *testing.T, cfg *Config) {
	for _, m := range cfg.Maps {
		if m.GeoIP2DB != "" {
			return
		}
	}
	g, err := Build(cfg, nil)
	if err != nil {
		if !strings.Contains(err.Error(), ".yaml:") {
			t.Fatalf("parsed config without DBs failed to build without a position: %v", err)
		}
		return
	}
	h := g.ApplyHealth(nil, nil)
	for _, r := range g.all {
		a := Answer{Buf: make([]netip.Addr, ScratchAddrs)}
		for _, c := range []Client{{Src: netip.MustParseAddr("192.0.2.1")}, {Src: netip.MustParseAddr("::1")},
			{Src: netip.MustParseAddr("2001:db8::1"), ECS: netip.MustParseAddr("2002:c000:201::1"), ECSBits: 48, HasECS: true}} {
			g.Resolve(r, "", c, g.ApplyAdmin(nil), h, &a)
		}
	}
	g.States(nil, h)
	g.AdminKeys()
}
