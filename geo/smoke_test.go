package geo

import (
	"net/netip"
	"testing"
)

func TestSmokeDefault(t *testing.T) {
	cfg, err := LoadConfigFile("../config/geoip.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"127.0.0.1", "::1", "192.0.2.1", "192.0.2.70", "198.51.100.1", "198.51.100.70", "203.0.113.1", "203.0.113.100", "100.96.0.1", "10.1.2.3", "10.200.0.1", "2001:db8:100::1", "8.8.8.8", "2002:c000:0201::1", "::ffff:192.0.2.1", "198.18.0.1", "198.19.0.1", "fd00:10::1"} {
		p, dcs, err := g.LookupMap("generic-map", netip.MustParseAddr(a))
		if err != nil {
			t.Fatal(err)
		}
		t.Log(a, FormatLookup("generic-map", p, dcs))
	}
}
