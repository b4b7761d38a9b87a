package geo

import (
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/geo/internal/mmdbgen"
)

var autoRows = []mmdbgen.Row{
	row("192.0.2.0/28", "EU", "NL", "", "Amsterdam", 52.37, 4.90),
	row("192.0.2.16/28", "AS", "SG", "", "Singapore", 1.35, 103.82),
	row("192.0.2.32/28", "NA", "US", "PA", "Philadelphia", 39.95, -75.17),
	row("192.0.2.48/28", "EU", "XX", "", ""), // no coordinates
	row("192.0.2.64/28", "OC", "AU", "", "Sydney", -33.87, 151.21),
}

func autoYAML(extra string) string {
	return `
maps:
  m:
    geoip2_db: db.mmdb
    datacenters: [a, b, c, d, e]
    map: {EU: auto, AS: auto, OC: [e, a]}
    auto_dc_coords:
      a: [40.0, -75.0]
      b: [52.3, 4.9]
      c: [1.3, 103.8]
      d: [52.3, 4.9]   # same place as b: ties keep datacenters order
` + extra + `
resources:
  r: {map: m, dcmap: {a: 192.0.2.1, b: 192.0.2.2, c: 192.0.2.3, d: 192.0.2.4, e: 192.0.2.5}}
`
}

func TestAuto(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		want        map[string]string
	}{
		{"default limit min(3, 4)", "", map[string]string{
			"192.0.2.1":   "b, d, a",
			"192.0.2.17":  "c, b, d",
			"192.0.2.33":  "a, b, d",       // NA: no key, top default is auto
			"192.0.2.49":  "a, b, c, d, e", // auto without coordinates: datacenters
			"192.0.2.65":  "e, a",          // an explicit list beats auto
			"203.0.113.1": "a, b, c, d, e", // not in the DB: datacenters
		}},
		{"limit 0 = all with coordinates", "    auto_dc_limit: 0", map[string]string{
			"192.0.2.1":  "b, d, a, c",
			"192.0.2.17": "c, b, d, a",
		}},
		{"limit 1", "    auto_dc_limit: 1", map[string]string{
			"192.0.2.1":  "b",
			"192.0.2.33": "a",
		}},
		{"explicit top default", "    auto_dc_limit: 2\n    map: {default: [e], EU: auto, AS: auto}", map[string]string{
			"192.0.2.1":   "b, d",
			"192.0.2.33":  "e", // NA falls to the explicit default, not auto
			"192.0.2.49":  "e", // no coordinates: the map default
			"203.0.113.1": "e",
		}},
	} {
		text := autoYAML(tc.extra)
		if strings.Contains(tc.extra, "map:") {
			text = strings.Replace(text, "    map: {EU: auto, AS: auto, OC: [e, a]}\n", "", 1)
		}
		g := mustGeo(t, text, autoRows...)
		for addr, want := range tc.want {
			got := lookupStr(t, g, "m", addr)
			if _, list, _ := strings.Cut(got, " => "); list != want {
				t.Errorf("%s: %s: got %q, want %q", tc.name, addr, list, want)
			}
		}
	}
}

func TestHaversine(t *testing.T) {
	const r = 6371.0 // km
	rad := func(d float64) float64 { return d * 3.141592653589793 / 180 }
	// Amsterdam - New York is about 5860 km.
	d := r * haversine(rad(52.37), rad(4.90), rad(40.71), rad(-74.01))
	if d < 5800 || d > 5900 {
		t.Errorf("Amsterdam-New York %v km", d)
	}
}
