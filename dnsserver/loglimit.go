package dnsserver

import (
	"sync/atomic"
	"time"
)

// lineLimiter lets one log line of a kind through per interval and counts
// the ones it holds back, so a flood of the same event (a query that
// panics, a client hammering a TCP limit) logs at a bounded rate and the
// next line says how many were left out. The zero value is ready; it is
// safe for concurrent use.
type lineLimiter struct {
	last     atomic.Int64 // unix nanoseconds of the last line; 0: none yet
	unlogged atomic.Uint64
}

// allow reports whether a line may be logged at now, at most one per
// every, and how many were held back since the last one let through.
func (l *lineLimiter) allow(now time.Time, every time.Duration) (heldBack uint64, ok bool) {
	n, last := now.UnixNano(), l.last.Load()
	if (last != 0 && n-last < int64(every)) || !l.last.CompareAndSwap(last, n) {
		l.unlogged.Add(1)
		return 0, false
	}
	return l.unlogged.Swap(0), true
}
