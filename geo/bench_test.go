package geo

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/geo/internal/mmdbgen"
)

// synthRows makes a DB shaped like a real City DB at a small scale: n4 IPv4
// /24s and n6 IPv6 /48s spread over continents, countries, states, cities.
func synthRows(n4, n6 int) []mmdbgen.Row {
	rnd := rand.New(rand.NewPCG(1, 2))
	type place struct{ cont, country, sub string }
	places := []place{{"EU", "NL", "NH"}, {"EU", "FR", "IDF"}, {"EU", "DE", "BE"}, {"NA", "US", "CA"}, {"NA", "US", "TX"},
		{"NA", "US", "VA"}, {"NA", "CA", "ON"}, {"AS", "SG", ""}, {"AS", "JP", "13"}, {"OC", "AU", "NSW"}, {"SA", "BR", "SP"},
		{"AF", "ZA", "GP"}, {"AN", "AQ", ""}}
	mk := func(p netip.Prefix) mmdbgen.Row {
		pl := places[rnd.IntN(len(places))]
		city := fmt.Sprintf("city%d", rnd.IntN(200))
		return row(p.String(), pl.cont, pl.country, pl.sub, city, rnd.Float64()*160-80, rnd.Float64()*340-170)
	}
	var rows []mmdbgen.Row
	for i := 0; i < n4; i++ {
		// Runs of /24s with the same record, as real DBs have.
		a := netip.AddrFrom4([4]byte{byte(1 + i/65536%200), byte(i / 256), byte(i), 0})
		r := mk(netip.PrefixFrom(a, 24))
		rows = append(rows, r)
	}
	for i := 0; i < n6; i++ {
		a := netip.AddrFrom16([16]byte{0x24, 0x00, byte(i >> 16), byte(i >> 8), byte(i)})
		rows = append(rows, mk(netip.PrefixFrom(a, 40)))
	}
	return rows
}

const benchYAML = `
maps:
  m:
    geoip2_db: db.mmdb
    datacenters: [eqiad, codfw, ulsfo, esams, eqsin, drmrs, magru]
    map:
      AF: [drmrs, esams, eqiad]
      AN: auto
      AS: {default: [eqsin, ulsfo, codfw], JP: [ulsfo, eqsin]}
      EU: {default: [esams, drmrs, eqiad], FR: [drmrs, esams]}
      NA: {default: [eqiad, codfw, ulsfo], US: {CA: [ulsfo, codfw], TX: [codfw, eqiad]}}
      OC: [eqsin, ulsfo]
      SA: [magru, codfw]
    nets: {10.0.0.0/8: [eqiad, codfw], 10.192.0.0/12: [codfw, eqiad]}
    auto_dc_coords: {eqiad: [39.04, -77.49], codfw: [32.9, -96.8], ulsfo: [37.77, -122.41], esams: [52.3, 4.94], eqsin: [1.29, 103.85], drmrs: [43.3, 5.37], magru: [-23.55, -46.63]}
resources:
  text-addrs:
    map: m
    dcmap:
      eqiad: {addrs_v4: [198.51.100.224], addrs_v6: ["2001:db8:ff01::224"]}
      codfw: {addrs_v4: [198.51.100.225], addrs_v6: ["2001:db8:ff02::224"]}
      ulsfo: {addrs_v4: [198.51.100.226], addrs_v6: ["2001:db8:ff03::224"]}
      esams: {addrs_v4: [192.0.2.224], addrs_v6: ["2001:db8:ff04::224"]}
      eqsin: {addrs_v4: [192.0.2.225], addrs_v6: ["2001:db8:ff05::224"]}
      drmrs: {addrs_v4: [192.0.2.226], addrs_v6: ["2001:db8:ff06::224"]}
      magru: {addrs_v4: [192.0.2.227], addrs_v6: ["2001:db8:ff07::224"]}
`

func benchConfig(b *testing.B, n4, n6 int) *Config {
	b.Helper()
	dir := b.TempDir()
	writeDB(b, dir, "db.mmdb", "Bench-City", synthRows(n4, n6))
	cfg, err := parseYAML(b, dir, benchYAML)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// BenchmarkResolve measures one DYNA choice with ECS, forced states and a
// health source: the whole per-query cost of this package. 0 allocs/op.
func BenchmarkResolve(b *testing.B) {
	cfg := benchConfig(b, 100_000, 20_000)
	g, err := Build(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	r, _ := g.Resource("text-addrs")
	st, _ := adminstate.Parse("admin_state", []byte("geoip/m/esams => DOWN/60\nsite/ulsfo => DOWN\n"))
	f := g.ApplyAdmin(st)
	h := fakeHealth{"text-addrs/eqiad": true}.apply(g)
	rnd := rand.New(rand.NewPCG(3, 4))
	clients := func(v6 bool) []Client {
		cs := make([]Client, 1024)
		for i := range cs {
			var a netip.Addr
			if v6 {
				a = netip.AddrFrom16([16]byte{0x24, 0x00, 0, byte(rnd.IntN(80)), byte(rnd.IntN(256)), byte(rnd.IntN(256))})
			} else {
				a = netip.AddrFrom4([4]byte{byte(1 + rnd.IntN(2)), byte(rnd.IntN(256)), byte(rnd.IntN(256)), 0})
			}
			cs[i] = Client{Src: netip.MustParseAddr("127.0.0.1"), ECS: a, ECSBits: 24, HasECS: true}
		}
		return cs
	}
	for _, bc := range []struct {
		name string
		cs   []Client
		pin  string
	}{{"ecs-v4", clients(false), ""}, {"ecs-v6", clients(true), ""}, {"pinned", clients(false), "eqiad"}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var a Answer
			for i := 0; b.Loop(); i++ {
				g.Resolve(r, bc.pin, bc.cs[i&1023], f, h, &a)
			}
		})
	}
}

// BenchmarkBuild compiles a map over a synthetic City DB of 100k IPv4 and
// 20k IPv6 networks (a real GeoLite2-City has a few million).
func BenchmarkBuild(b *testing.B) {
	cfg := benchConfig(b, 100_000, 20_000)
	b.ReportAllocs()
	var g *Geo
	for b.Loop() {
		var err error
		if g, err = Build(cfg, nil); err != nil {
			b.Fatal(err)
		}
	}
	m := g.maps[0]
	b.ReportMetric(float64(len(m.tree.nodes)/2), "nodes")
	b.ReportMetric(float64(len(m.lists)), "dc-lists")
	_ = filepath.Join
}
