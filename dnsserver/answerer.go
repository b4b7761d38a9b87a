package dnsserver

import "net/netip"

// Answerer answers queries without sockets, exactly as a UDP reader does
// (with its answer cache) or as TCP does (without). Tests and benchmarks of
// a whole snapshot use it; the server does not.
type Answerer struct {
	wk  *worker
	out []byte
}

// NewAnswerer returns an Answerer; cached gives it a UDP reader's cache.
func NewAnswerer(cached bool) *Answerer {
	a := &Answerer{wk: newWorker(new(Stats)), out: make([]byte, 0, 65537)}
	if cached {
		a.wk.cache = newAnswerCache()
	}
	return a
}

// Answer returns the UDP reply to query from src (nil: nothing is sent). The
// reply is valid until the next call.
func (a *Answerer) Answer(snap *Snapshot, query []byte, src netip.Addr) []byte {
	return a.wk.answer(snap, query, src, false, a.out)
}

// Stats returns the counters of the queries answered so far.
func (a *Answerer) Stats() StatsSnapshot {
	var t StatsSnapshot
	a.wk.stats.addTo(&t)
	return t
}
