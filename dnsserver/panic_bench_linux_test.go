//go:build linux

package dnsserver

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// The cost of the recover around queries, against BenchmarkAnswer*: per
// query (answerGuarded, as TCP uses it) and per recvmmsg batch
// (answerBatch, as the Linux UDP reader uses it), for a cached static
// answer, the cheapest query and so the one where a guard would show most.
func BenchmarkGuardedStaticACached(b *testing.B) {
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	p, _ := query("www.example.org.", dns.TypeA).Pack()
	snap, st := testSnapshot(b), new(Stats)
	wk := newUDPWorker(st)
	out := make([]byte, 0, 65537)
	src := netip.MustParseAddr("192.0.2.1")
	b.ReportAllocs()
	for b.Loop() {
		if r, ok := s.answerGuarded(wk, snap, p, src, false, out); r == nil || !ok {
			b.Fatal("no answer")
		}
	}
}

func BenchmarkUDPBatchStaticACached(b *testing.B) {
	for _, n := range []int{1, udpBatch} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			st := new(Stats)
			r := &udpReader{st: st, wk: newUDPWorker(st), b: newUDPBatchState()}
			p, _ := query("www.example.org.", dns.TypeA).Pack()
			pkts := make([][]byte, n)
			for i := range pkts {
				pkts[i] = p
			}
			fillBatch(r.b, pkts)
			snap := testSnapshot(b)
			b.ReportAllocs()
			for b.Loop() {
				r.b.pending = 0
				for i := 0; i < n; {
					i = s.answerBatch(r, snap, i, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/query")
		})
	}
}
