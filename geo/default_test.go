package geo

import (
	"bytes"
	"net/netip"
	"os"
	"testing"

	"github.com/geotraffic/geotraffic/geo/internal/mmdbgen"
)

// The committed database must be exactly what the committed CSV builds.
func TestDefaultDBMatchesCSV(t *testing.T) {
	f, err := os.Open("../config/geoip/default-city.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := mmdbgen.ParseCSV(f, f.Name())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := mmdbgen.Write(&buf, rows, mmdbgen.Options{}); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../config/geoip/default-city.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), committed) {
		t.Fatalf("config/geoip/default-city.mmdb (%d bytes) differs from what default-city.csv builds (%d bytes): run `make geoip-db` and commit both",
			len(committed), buf.Len())
	}
	continents := map[string]bool{}
	for _, r := range rows {
		continents[r.Continent] = true
	}
	for _, c := range []string{"AF", "AN", "AS", "EU", "NA", "OC", "SA"} {
		if !continents[c] {
			t.Errorf("continent %s missing from the default CSV", c)
		}
	}
}

// The examples the README gives for `dig +subnet` on the default config.
func TestDefaultConfig(t *testing.T) {
	cfg, err := LoadConfigFile("../config/geoip.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := g.Resource("text-addrs")
	if !ok || r.HasCNAME() {
		t.Fatal("text-addrs: missing or has a CNAME")
	}
	next, _ := g.Resource("text-next")
	cname, _ := g.Resource("text-cname")
	if cname == nil || !cname.HasCNAME() {
		t.Fatal("text-cname: missing or without CNAME")
	}
	for _, tc := range []struct {
		subnet, dc, next, v4 string
		scope                uint8
	}{
		{"127.0.0.1/32", "eqiad", "codfw", "198.51.100.224", 8},
		{"::1/128", "eqiad", "codfw", "198.51.100.224", 104},
		{"192.0.2.0/26", "esams", "drmrs", "192.0.2.224", 26},         // EU NL
		{"192.0.2.64/26", "drmrs", "esams", "192.0.2.226", 26},        // EU FR
		{"198.51.100.0/26", "ulsfo", "codfw", "198.51.100.226", 26},   // NA US CA
		{"198.51.100.64/26", "codfw", "eqiad", "198.51.100.225", 26},  // NA US TX
		{"198.51.100.192/26", "eqiad", "codfw", "198.51.100.224", 26}, // NA CA ON
		{"203.0.113.0/27", "eqsin", "ulsfo", "192.0.2.225", 26},       // AS SG (merged with JP)
		{"203.0.113.96/27", "eqsin", "ulsfo", "192.0.2.225", 27},      // OC AU
		{"203.0.113.160/27", "magru", "codfw", "192.0.2.227", 27},     // SA BR
		{"203.0.113.224/27", "drmrs", "esams", "192.0.2.226", 27},     // AF ZA
		{"100.96.0.0/12", "magru", "eqsin", "192.0.2.227", 12},        // AN: auto
		{"10.0.0.0/8", "eqiad", "codfw", "198.51.100.224", 9},         // nets
		{"2001:db8:100::/40", "esams", "drmrs", "192.0.2.224", 40},    // EU NL
		{"2001:db8:300::/40", "ulsfo", "codfw", "198.51.100.226", 40},
		{"2001:db8:600::/40", "eqsin", "ulsfo", "192.0.2.225", 39}, // AS SG, merged with OC AU
		{"2001:db8:800::/40", "magru", "codfw", "192.0.2.227", 40},
		{"2001:db8:900::/40", "drmrs", "esams", "192.0.2.226", 40},
		{"2001:db8:a00::/40", "magru", "eqsin", "192.0.2.227", 40}, // AN: auto
	} {
		p := netip.MustParsePrefix(tc.subnet)
		c := Client{Src: netip.MustParseAddr("192.0.2.1"), ECS: p.Addr(), ECSBits: uint8(p.Bits()), HasECS: true}
		var a, b Answer
		g.Resolve(r, "", c, nil, nil, &a)
		g.Resolve(next, "", c, nil, nil, &b)
		if a.DC != tc.dc || b.DC != tc.next || a.Scope != tc.scope || len(a.V4) != 1 || a.V4[0].String() != tc.v4 {
			t.Errorf("%s: got %s/%s scope %d %v, want %s/%s scope %d %s", tc.subnet, a.DC, b.DC, a.Scope, a.V4, tc.dc, tc.next, tc.scope, tc.v4)
		}
	}
	for _, src := range []string{"127.0.0.1", "::1"} { // local dig without ECS
		var a Answer
		g.Resolve(r, "", Client{Src: netip.MustParseAddr(src)}, nil, nil, &a)
		if a.DC != "eqiad" || a.Scope != 0 {
			t.Errorf("from %s: %+v", src, a)
		}
	}
}
