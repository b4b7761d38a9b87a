package dnsserver

import (
	"bytes"
	"encoding/hex"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/zones"
)

// panicky is the test-only way to make the answer path panic: a DynBackend
// (test data, nothing in the server) that panics for clients whose ECS
// address is in 198.18.0.0/15 and answers like fakeGeo otherwise.
type panicky struct {
	mu sync.Mutex
	*fakeGeo
}

var panicNet = netip.MustParsePrefix("198.18.0.0/15")

func (p *panicky) Resolve(d *zones.Dyn, c *Client, out *zones.DynAnswer, info *DynInfo) {
	if c.HasECS && panicNet.Contains(c.ECS) {
		panic("test: a query that breaks the answer path")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fakeGeo.Resolve(d, c, out, info)
}

func panickySnapshot(t testing.TB) *Snapshot {
	snap, g := dynSnapshot(t)
	snap.Dyn = &panicky{fakeGeo: g}
	return snap
}

func packed(t *testing.T, m *dns.Msg, id uint16) []byte {
	t.Helper()
	m.Id = id
	p, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A query whose answer panics is dropped, counted and logged with the
// stack and the query in hex; the same socket or connection answers the
// next queries.
func TestPanickingQueryIsDropped(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			var logs testutil.SyncBuffer
			s := New(Config{Listen: []string{"127.0.0.1:0"}, UDPSockets: 1}, panickySnapshot(t), slog.New(slog.NewTextHandler(&logs, nil)))
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Shutdown(t.Context()) })
			conn, err := net.Dial(network, s.Addrs()[0].String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// Failure safety net only: the test waits for replies, not for silence.
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			c := &dns.Conn{Conn: conn}
			bad := packed(t, withECS(query("www.dyn.test.", dns.TypeA), 1, 24, "198.18.0.0"), 1)
			good := packed(t, withECS(query("www.dyn.test.", dns.TypeA), 1, 24, "203.0.113.0"), 2)
			// The bad query first: the first reply must be the good one's,
			// as one socket's reader (one connection) answers in order.
			for _, p := range [][]byte{bad, good, good} {
				if _, err := c.Write(p); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 2 {
				r, err := c.ReadMsg()
				if err != nil {
					t.Fatalf("reply %d: %v", i, err)
				}
				if r.Id != 2 || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "198.51.100.1" {
					t.Fatalf("reply %d: %v", i, r)
				}
			}
			proto := map[string]int{"udp": 0, "tcp": 1}[network]
			if got := s.Stats().Panics; got[proto] != 1 || got[1-proto] != 0 {
				t.Errorf("panics by protocol = %v", got)
			}
			log := logs.String()
			for _, want := range []string{"level=ERROR", "panic while answering a DNS query", "protocol=" + network,
				"query=" + hex.EncodeToString(bad), "panic=\"test: a query that breaks the answer path\"",
				"goroutine ", "dnsserver.(*panicky).Resolve"} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
			if n := strings.Count(log, "panic while answering"); n != 1 {
				t.Errorf("%d panic log lines, want 1", n)
			}
		})
	}
}

// Panic log lines are spaced out, so a query replayed at line rate cannot
// flood the log; every panic is still counted, and the next line says how
// many were not logged.
func TestPanicLogIsRateLimited(t *testing.T) {
	var logs bytes.Buffer
	now := time.Unix(1000, 0)
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	s.panics.now = func() time.Time { return now }
	st := new(Stats)
	src := netip.MustParseAddr("192.0.2.1")
	for _, step := range []time.Duration{0, 0, panicLogInterval / 2, panicLogInterval} {
		now = now.Add(step)
		s.queryPanicked("boom", st, 0, []byte{0xab}, src)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "unlogged_before=0") || !strings.Contains(lines[1], "unlogged_before=2") {
		t.Fatalf("want 2 lines, the second counting 2 unlogged panics:\n%s", logs.String())
	}
	if st.Panics[0].Load() != 4 {
		t.Fatalf("counted %d panics, want 4", st.Panics[0].Load())
	}
}

// After a panic the reader's answer cache is emptied, since the panic may
// have struck while a reply was being stored.
func TestRenewedWorkerEmptiesTheCache(t *testing.T) {
	snap, st := testSnapshot(t), new(Stats)
	wk := newUDPWorker(st)
	p, _ := query("www.example.org.", dns.TypeA).Pack()
	out := make([]byte, 0, 65537)
	src := netip.MustParseAddr("192.0.2.1")
	for range 2 {
		wk.answer(snap, p, src, false, out)
	}
	if st.CacheHits.Load() != 1 {
		t.Fatalf("cache hits %d before, want 1", st.CacheHits.Load())
	}
	wk = wk.renewed()
	if r := wk.answer(snap, p, src, false, out); r == nil || st.CacheHits.Load() != 1 {
		t.Fatalf("after renewal: reply %v, cache hits %d; want a fresh answer", r != nil, st.CacheHits.Load())
	}
}
