package dnsserver

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// benchAnswer measures the answer path as TCP uses it (no answer cache);
// benchCached as a UDP reader does, where a repeated static question is
// replayed from the cache.
func benchAnswer(b *testing.B, snap *Snapshot, q *dns.Msg) { benchWorker(b, snap, q, false) }
func benchCached(b *testing.B, snap *Snapshot, q *dns.Msg) { benchWorker(b, snap, q, true) }

func benchWorker(b *testing.B, snap *Snapshot, q *dns.Msg, cached bool) {
	p, err := q.Pack()
	if err != nil {
		b.Fatal(err)
	}
	wk := newWorker(new(Stats))
	if cached {
		wk.cache = newAnswerCache()
	}
	out := make([]byte, 0, 65537)
	src := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if wk.answer(snap, p, src, false, out) == nil {
			b.Fatal("no answer")
		}
	}
}

func BenchmarkAnswerStaticA(b *testing.B) {
	benchAnswer(b, testSnapshot(b), query("www.example.org.", dns.TypeA))
}

func BenchmarkAnswerNXDOMAIN(b *testing.B) {
	benchAnswer(b, testSnapshot(b), query("nope.example.org.", dns.TypeA))
}

func BenchmarkAnswerCNAMEChain(b *testing.B) {
	benchAnswer(b, testSnapshot(b), query("chain1.example.org.", dns.TypeA))
}

func BenchmarkAnswerWildcardEDNS(b *testing.B) {
	q := query("foo.wild.example.org.", dns.TypeA)
	q.SetEdns0(1232, true)
	benchAnswer(b, testSnapshot(b), q)
}

func BenchmarkAnswerDynaECS(b *testing.B) {
	snap, _ := dynSnapshot(b)
	benchAnswer(b, snap, withECS(query("www.dyn.test.", dns.TypeA), 1, 24, "203.0.113.0"))
}

func BenchmarkAnswerStaticACached(b *testing.B) {
	benchCached(b, testSnapshot(b), query("www.example.org.", dns.TypeA))
}

func BenchmarkAnswerNXDOMAINCached(b *testing.B) {
	benchCached(b, testSnapshot(b), query("nope.example.org.", dns.TypeA))
}

func BenchmarkAnswerStaticAECSCached(b *testing.B) {
	benchCached(b, testSnapshot(b), withECS(query("www.example.org.", dns.TypeA), 1, 24, "203.0.113.0"))
}

// TestAnswerAllocs pins the no-allocation property of the answer path.
func TestAnswerAllocs(t *testing.T) {
	snap := testSnapshot(t)
	for _, q := range []*dns.Msg{query("www.example.org.", dns.TypeA), query("nope.example.org.", dns.TypeA),
		query("chain1.example.org.", dns.TypeA), query("www.child.example.org.", dns.TypeA)} {
		assertNoAllocs(t, snap, q)
	}
	dyn, _ := dynSnapshot(t)
	assertNoAllocs(t, dyn, withECS(query("www.dyn.test.", dns.TypeA), 1, 24, "203.0.113.0"))
	assertNoAllocs(t, dyn, query("lb.dyn.test.", dns.TypeA))
}

func assertNoAllocs(t *testing.T, snap *Snapshot, q *dns.Msg) {
	t.Helper()
	{
		p, _ := q.Pack()
		wk := newWorker(new(Stats))
		out := make([]byte, 0, 65537)
		src := netip.MustParseAddr("192.0.2.1")
		if n := testing.AllocsPerRun(100, func() { wk.answer(snap, p, src, false, out) }); n != 0 {
			t.Errorf("%s: %v allocations per answer, want 0", q.Question[0].Name, n)
		}
	}
}

// The signed answer path, with the signatures already made (the test
// signer's cache, a map under a mutex, stands in for package dnssec's).
func BenchmarkAnswerSignedStaticA(b *testing.B) {
	snap, _ := signedSnapshot(b)
	benchAnswer(b, snap, doQuery("www.example.org.", dns.TypeA))
}

func BenchmarkAnswerSignedNXDOMAIN(b *testing.B) {
	snap, _ := signedSnapshot(b)
	benchAnswer(b, snap, doQuery("nope.example.org.", dns.TypeA))
}

func BenchmarkAnswerSignedDynaECS(b *testing.B) {
	snap, _ := signedSnapshot(b)
	benchAnswer(b, snap, withDO(withECS(query("www.signed.test.", dns.TypeA), 1, 24, "203.0.113.0")))
}

// BenchmarkAnswerUnsignedDynaECS is BenchmarkAnswerSignedDynaECS's
// question without DO, for comparison.
func BenchmarkAnswerUnsignedDynaECS(b *testing.B) {
	snap, _ := signedSnapshot(b)
	benchAnswer(b, snap, withECS(query("www.signed.test.", dns.TypeA), 1, 24, "203.0.113.0"))
}

func BenchmarkAnswerSignedStaticACached(b *testing.B) {
	snap, _ := signedSnapshot(b)
	benchCached(b, snap, doQuery("www.example.org.", dns.TypeA))
}
