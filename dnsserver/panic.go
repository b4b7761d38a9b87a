package dnsserver

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"runtime/debug"
	"time"
)

// A query that makes the answer path panic is dropped and the server goes
// on answering: one bad packet (or a bug reached by one) must not take
// every zone off the air. The panic is counted per protocol and logged
// with its stack and the query in hex.
const (
	// panicLogInterval spaces panic log lines: a query that panics every
	// time could otherwise be replayed at line rate to flood the log with
	// stacks. The first panic is logged at once; the count is exact.
	panicLogInterval = time.Second
	// maxPanicQueryHex bounds the query bytes logged (TCP queries reach
	// 64 KiB).
	maxPanicQueryHex = 1024
)

// panicLog rate-limits panic log lines for one Server.
type panicLog struct {
	lines lineLimiter
	now   func() time.Time // tests set a clock; nil: time.Now
}

// queryPanicked reports a panic v raised while answering query p from src
// over proto (0 udp, 1 tcp).
func (s *Server) queryPanicked(v any, st *Stats, proto int, p []byte, src netip.Addr) {
	st.Panics[proto].Add(1)
	clock := s.panics.now
	if clock == nil {
		clock = time.Now
	}
	unlogged, ok := s.panics.lines.allow(clock(), panicLogInterval)
	if !ok {
		return
	}
	q := p
	if len(q) > maxPanicQueryHex {
		q = q[:maxPanicQueryHex]
	}
	s.log.Error("panic while answering a DNS query; the query is dropped and the server goes on",
		"protocol", ProtoNames[proto], "client", src.String(), "query_len", len(p), "query", hex.EncodeToString(q),
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()), "unlogged_before", unlogged)
}

// answerGuarded is wk.answer with a recover: after a panic the query is
// reported and ok is false, and the caller must replace wk with
// wk.renewed(): its buffers and cache may hold half an answer. Used per query where a query costs a
// syscall or more anyway (TCP; UDP without recvmmsg); the Linux UDP
// reader guards a whole batch instead (answerBatch).
func (s *Server) answerGuarded(wk *worker, snap *Snapshot, p []byte, src netip.Addr, tcp bool, out []byte) (resp []byte, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			s.queryPanicked(v, wk.stats, wk.proto, p, src)
			resp, ok = nil, false
		}
	}()
	return wk.answer(snap, p, src, tcp, out), true
}

// renewed replaces wk after a panic in its answer: fresh buffers, and its
// answer cache emptied (a reply may have been half stored) but kept, so a
// flood of panicking queries does not cost a 0.9 MB cache each.
func (wk *worker) renewed() *worker {
	n := newWorker(wk.stats)
	if wk.cache != nil {
		n.cache = wk.cache
		n.cache.snap = nil // the next lookup empties every slot
	}
	return n
}
