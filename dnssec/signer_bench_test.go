package dnssec

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

var benchAlgs = []uint8{dns.ECDSAP256SHA256, dns.ED25519}

// BenchmarkSigsHit is the answer path's cost for a set already signed.
func BenchmarkSigsHit(b *testing.B) {
	k := newKey(b, "example.org.", dns.ECDSAP256SHA256, 257)
	s, z := newTestSigner(b, cskState(k), Options{})
	zs := s.Zone(z)
	owner := wire(b, "geo.example.org.")
	a := rdataOf(b, "x. A 192.0.2.10", "x. A 192.0.2.11")
	zs.Sigs(owner, dns.TypeA, 300, a, testNow)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			zs.Sigs(owner, dns.TypeA, 300, a, testNow)
		}
	})
}

// BenchmarkSigsMiss signs a new set every time: one signature, plus the
// cache insert (and eviction once full).
func BenchmarkSigsMiss(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(dns.AlgorithmToString[alg], func(b *testing.B) {
			k := newKey(b, "example.org.", alg, 257)
			s, z := newTestSigner(b, cskState(k), Options{CacheEntries: 10000})
			zs := s.Zone(z)
			owner := wire(b, "geo.example.org.")
			rd := [][]byte{make([]byte, 4)}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				binary.BigEndian.PutUint32(rd[0], uint32(i))
				if zs.Sigs(owner, dns.TypeA, 300, rd, testNow) == nil {
					b.Fatal("not signed")
				}
			}
		})
	}
}

// BenchmarkSignZone100k pre-signs a zone of 100,000 records (50,000 names
// with an A and an AAAA set each): what loading a large signed zone adds.
func BenchmarkSignZone100k(b *testing.B) {
	dir := b.TempDir()
	var text strings.Builder
	text.WriteString("$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n")
	for i := range 50000 {
		fmt.Fprintf(&text, "h%d IN A 10.%d.%d.%d\nh%d IN AAAA 2001:db8::%x\n", i, i>>16, i>>8&255, i&255, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "example.org"), []byte(text.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	set, err := zones.Load(dir, nil, zones.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, alg := range benchAlgs {
		b.Run(dns.AlgorithmToString[alg], func(b *testing.B) {
			k := newKey(b, "example.org.", alg, 257)
			states := map[string]keys.State{"example.org.": cskState(k)}
			var s *Signer
			// The CPU time too: on a shared machine the wall time says little.
			cpu := cpuTime()
			for b.Loop() {
				if s, err = newSigner(set, states, Options{}, testNow, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(s.Stats().Presign.Seconds(), "presign-s")
			b.ReportMetric(float64(s.Stats().StaticSets), "sets")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
