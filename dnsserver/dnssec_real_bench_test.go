package dnsserver_test

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/dnssec"
	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// One address per family for every client, as a geo map entry holding
// every client of the /16 would answer.
type benchGeo struct{ v4, v6 []netip.Addr }

func (g benchGeo) Resolve(d *zones.Dyn, c *dnsserver.Client, out *zones.DynAnswer, info *dnsserver.DynInfo) {
	out.V4, out.V6, out.TTL = g.v4, g.v6, d.ClampTTL(30, true)
	info.Scope, info.UsedECS = 16, c.HasECS
	a := c.Src
	if c.HasECS {
		a = c.ECS
	}
	info.Net, _ = a.Prefix(16)
}

type anyDyn struct{}

func (anyDyn) CheckDyn(plugin, res, dc string, dync bool) (any, error) { return res, nil }

// realSigned serves dyn.test (static and DYNA names) signed by package
// dnssec with an ECDSA P-256 or Ed25519 CSK.
func realSigned(b *testing.B, alg uint8) *dnsserver.Snapshot {
	dir := b.TempDir()
	zone := "$TTL 300\n@ IN SOA ns1 hm 1 2 3 4 60\n@ IN NS ns1\nns1 IN A 192.0.2.1\nwww 300/60 IN DYNA geoip!addrs\n"
	if err := os.WriteFile(filepath.Join(dir, "dyn.test"), []byte(zone), 0o644); err != nil {
		b.Fatal(err)
	}
	set, err := zones.LoadDir(dir, anyDyn{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	k, err := keys.Generate("dyn.test.", alg, dns.ZONE|dns.SEP, now.Add(-time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	zk := map[string]*keys.ZoneKeys{"dyn.test.": {Zone: "dyn.test.", Keys: []*keys.Key{k}}}
	signer, err := dnssec.New(set, zk, dnssec.Options{}, now, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	g := benchGeo{v4: []netip.Addr{netip.MustParseAddr("198.51.100.1")}, v6: []netip.Addr{netip.MustParseAddr("2001:db8::1")}}
	return (&dnsserver.Snapshot{Zones: set, Dyn: g, DNSSEC: signer}).Prepare()
}

func benchQuery(b *testing.B, name string, qtype uint16, do, ecs bool) []byte {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(1232, do)
	if ecs {
		q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1,
			SourceNetmask: 24, Address: netip.MustParseAddr("203.0.113.0").AsSlice()})
	}
	p, err := q.Pack()
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// benchReal answers p again and again; cached gives the Answerer a UDP
// reader's answer cache (a hit replays the reply, signatures included),
// without it every answer is built and its signatures fetched from the
// signer's cache.
func benchReal(b *testing.B, snap *dnsserver.Snapshot, p []byte, cached bool) {
	a := dnsserver.NewAnswerer(cached)
	src := netip.MustParseAddr("192.0.2.1")
	a.Answer(snap, p, src)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if a.Answer(snap, p, src) == nil {
			b.Fatal("no answer")
		}
	}
}

func BenchmarkRealSigned(b *testing.B) {
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		snap := realSigned(b, alg)
		for _, c := range []struct {
			name         string
			qname        string
			do, ecs, hit bool
		}{
			{"StaticA/unsigned", "ns1.dyn.test.", false, false, false},
			{"StaticA/DO", "ns1.dyn.test.", true, false, false},
			{"StaticA/DO/cached", "ns1.dyn.test.", true, false, true},
			{"DynaECS/unsigned", "www.dyn.test.", false, true, false},
			{"DynaECS/DO", "www.dyn.test.", true, true, false},
			{"DynaECS/DO/cached", "www.dyn.test.", true, true, true},
		} {
			b.Run(dns.AlgorithmToString[alg]+"/"+c.name, func(b *testing.B) {
				benchReal(b, snap, benchQuery(b, c.qname, dns.TypeA, c.do, c.ecs), c.hit)
			})
		}
		// A new name every time: one NSEC signature per answer, the cost
		// of a random-name flood.
		b.Run(dns.AlgorithmToString[alg]+"/NXDOMAIN/DO/miss", func(b *testing.B) {
			qs := make([][]byte, b.N)
			for i := range qs {
				qs[i] = benchQuery(b, fmt.Sprintf("n%d.dyn.test.", i), dns.TypeA, true, false)
			}
			a := dnsserver.NewAnswerer(false)
			src := netip.MustParseAddr("192.0.2.1")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				a.Answer(snap, qs[i], src)
			}
		})
	}
}
