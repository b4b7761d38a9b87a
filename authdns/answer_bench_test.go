package authdns

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/miekg/dns"
)

// The answer path for DYNA over the default configuration and real GeoIP
// data: as TCP answers (no cache) and as a UDP reader does (with the cache).
func BenchmarkDynaECS(b *testing.B) {
	st, err := LoadState(filepath.Join(repoRoot(), "config", "authdns.yaml"), quietLog())
	if err != nil {
		b.Fatal(err)
	}
	snap := st.Snapshot()
	m := new(dns.Msg)
	m.SetQuestion("www.example.org.", dns.TypeA)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1,
		SourceNetmask: 24, Address: netip.MustParseAddr("192.0.2.0").AsSlice()})
	p, err := m.Pack()
	if err != nil {
		b.Fatal(err)
	}
	src := netip.MustParseAddr("127.0.0.1")
	for _, cached := range []bool{false, true} {
		name := "uncached"
		if cached {
			name = "cached"
		}
		b.Run(name, func(b *testing.B) {
			a := dnsserver.NewAnswerer(cached)
			b.ReportAllocs()
			for b.Loop() {
				if a.Answer(snap, p, src) == nil {
					b.Fatal("no answer")
				}
			}
		})
	}
}
