package authdns

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/dnsserver"
)

// signedDefault is the default configuration (config/authdns.yaml, its
// zone and GeoIP data) with example.org signed by one CSK of alg.
func signedDefault(b *testing.B, alg uint8) *dnsserver.Snapshot {
	b.Helper()
	cfg, err := LoadConfig(filepath.Join(repoRoot(), "config", "authdns.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	k := writeKeyAlg(b, dir, "example.org", alg, 257)
	cfg.DNSSEC = &DNSSECConfig{Keys: dir, Validity: DefaultSigValidity, Refresh: DefaultSigRefresh,
		DNSKEYTTL: DefaultDNSKEYTTL, CacheEntries: DefaultSigCacheEntries}
	st, err := Build(cfg, adminstate.Empty(""), quietLog())
	if err != nil {
		b.Fatal(err)
	}
	if st.Signing == nil || st.Signing.Signer == nil {
		b.Fatalf("example.org not signed with %s", k.File)
	}
	return st.Snapshot()
}

// BenchmarkSignedAnswers is the answer path with the real signer: static
// A, DYNA with ECS, and the compact denial of one name, with and without
// DO, as TCP answers them (no answer cache) and as a UDP reader does
// (cache); their signatures are made before the loop, so these are hits.
// nxdomain-miss asks a new name each time: one signature per answer.
func BenchmarkSignedAnswers(b *testing.B) {
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		snap := signedDefault(b, alg)
		src := netip.MustParseAddr("127.0.0.1")
		for _, q := range []struct {
			name, qname string
			qtype       uint16
			ecs         bool
		}{
			{"static-A", "static.example.org.", dns.TypeA, false},
			{"dyna-ecs", "www.example.org.", dns.TypeA, true},
			{"nxdomain", "nope.example.org.", dns.TypeA, false},
		} {
			for _, do := range []bool{false, true} {
				p := benchQuery(b, q.qname, q.qtype, q.ecs, do)
				for _, cached := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/do=%v/cached=%v", dns.AlgorithmToString[alg], q.name, do, cached)
					b.Run(name, func(b *testing.B) {
						a := dnsserver.NewAnswerer(cached)
						if a.Answer(snap, p, src) == nil { // signs, outside the loop
							b.Fatal("no answer")
						}
						b.ReportAllocs()
						for b.Loop() {
							if a.Answer(snap, p, src) == nil {
								b.Fatal("no answer")
							}
						}
					})
				}
			}
		}
		b.Run(dns.AlgorithmToString[alg]+"/nxdomain-miss", func(b *testing.B) {
			a := dnsserver.NewAnswerer(false)
			// The first label's digits are rewritten in place, so every
			// iteration asks a name never asked before.
			p := benchQuery(b, "n000000000.nope.example.org.", dns.TypeA, false, true)
			digits := p[12+2 : 12+2+9]
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				for j, v := len(digits)-1, i; j >= 0; j, v = j-1, v/10 {
					digits[j] = byte('0' + v%10)
				}
				if a.Answer(snap, p, src) == nil {
					b.Fatal("no answer")
				}
				i++
			}
		})
	}
}

func benchQuery(b *testing.B, name string, qtype uint16, ecs, do bool) []byte {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, do)
	if ecs {
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1,
			SourceNetmask: 24, Address: netip.MustParseAddr("192.0.2.0").AsSlice()})
	}
	p, err := m.Pack()
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkReloadSigned100k is BenchmarkReload100k with every zone signed
// by a CSK (alg 13): the reload includes signing 100k records' sets.
func BenchmarkReloadSigned100k(b *testing.B) {
	dir := b.TempDir()
	genZones(b, filepath.Join(dir, "data"), 10, 100000)
	keysDir := filepath.Join(dir, "keys")
	os.MkdirAll(keysDir, 0o700)
	for z := 0; z < 10; z++ {
		writeKeyAlg(b, keysDir, fmt.Sprintf("zone%d.example", z), dns.ECDSAP256SHA256, 257)
	}
	writeKeyAlg(b, keysDir, "example.com", dns.ECDSAP256SHA256, 257)
	os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte("listen: [\"127.0.0.1:0\"]\ndata: data\nudp_sockets: 1\ncontrol: off\ndnssec: {keys: keys}\n"), 0o644)
	d := benchReloads(b, dir)
	s := d.State().Signing.Signer.Stats()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/reload")
	b.ReportMetric(s.Presign.Seconds(), "presign-s")
	b.ReportMetric(float64(s.StaticSets), "sets")
}
