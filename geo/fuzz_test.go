package geo

import (
	"net/netip"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// FuzzParseConfig: any YAML either parses or gives an error; never a panic.
// Configs that parse and need no database must build and resolve.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{okMap, foYAML, walkYAML, autoYAML(""), "maps: {m: {datacenters: [a], nets: {10.0.0.0/8: a}}}",
		"maps:\n  m:\n    datacenters: [a, b]\n    nets: {\"::/0\": [b], 0.0.0.0/0: []}\nresources: {r: {map: m, dcmap: {a: x.example., b: [192.0.2.1]}}}\n"} {
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
		g, err := Build(cfg, nil)
		if err != nil {
			t.Fatalf("parsed config without DBs failed to build: %v", err)
		}
		for _, name := range g.Resources() {
			r, _ := g.Resource(name)
			var a Answer
			for _, src := range []string{"192.0.2.1", "::1", "2001:db8::1", "2002:c000:201::1"} {
				g.Resolve(r, "", Client{Src: netip.MustParseAddr(src)}, g.ApplyAdmin(nil), nil, &a)
			}
		}
	})
}
