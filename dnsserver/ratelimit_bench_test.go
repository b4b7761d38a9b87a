package dnsserver

import (
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/dnsserver/rrl"
)

// benchRRL answers q from 1024 networks in turn, as a UDP reader does
// (with its cache), with response rate limiting off or on at a rate no
// network reaches: the cost of accounting alone, on the same queries.
func benchRRL(b *testing.B, q *dns.Msg, on bool) {
	snap := testSnapshot(b)
	if on {
		snap.RRL = rrl.New(rrl.Config{ResponsesPerSecond: rrl.MaxRate, NXDomainsPerSecond: rrl.MaxRate,
			ErrorsPerSecond: rrl.MaxRate, Window: rrl.DefaultWindow, Slip: rrl.DefaultSlip, IPv4Prefix: rrl.DefaultIPv4Prefix,
			IPv6Prefix: rrl.DefaultIPv6Prefix, TableSize: rrl.DefaultTableSize}, nil, nil)
	}
	p, err := q.Pack()
	if err != nil {
		b.Fatal(err)
	}
	wk := newWorker(new(Stats))
	wk.cache = newAnswerCache()
	out := make([]byte, 0, 65537)
	var srcs [1024]netip.Addr
	for i := range srcs {
		srcs[i] = netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if on && i%udpBatch == 0 { // as a UDP reader reads the clock
			wk.now = time.Now()
		}
		if wk.answer(snap, p, srcs[i&1023], false, out) == nil {
			b.Fatal("no answer")
		}
	}
	if on && (snap.RRL.Stats().Dropped[rrl.Response].Load() != 0 || snap.RRL.Stats().Slipped[rrl.Response].Load() != 0) {
		b.Fatal("a network was limited: the benchmark measures accounting only")
	}
}

func BenchmarkAnswerRRLOffStaticACached(b *testing.B) {
	benchRRL(b, query("www.example.org.", dns.TypeA), false)
}

func BenchmarkAnswerRRLOnStaticACached(b *testing.B) {
	benchRRL(b, query("www.example.org.", dns.TypeA), true)
}

func BenchmarkAnswerRRLOffNXDOMAINCached(b *testing.B) {
	benchRRL(b, query("nope.example.org.", dns.TypeA), false)
}

func BenchmarkAnswerRRLOnNXDOMAINCached(b *testing.B) {
	benchRRL(b, query("nope.example.org.", dns.TypeA), true)
}
