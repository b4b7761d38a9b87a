package rrl

import (
	"hash/maphash"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is what a response is charged as.
type Kind uint8

const (
	Response Kind = iota // an answer (qname, qtype) or NODATA (qname): responses_per_second
	Referral             // a delegation, keyed by its name: responses_per_second
	NXDomain             // a name error, keyed by the zone: nxdomains_per_second
	Error                // any other rcode, one account per network; never slips
	NumKinds
)

// KindNames label the kinds in metrics and logs.
var KindNames = [NumKinds]string{"response", "referral", "nxdomain", "error"}

// Verdict is what to do with a response.
type Verdict uint8

const (
	Send Verdict = iota
	Slip         // send an empty TC=1 answer instead
	Drop
)

// Stats counts limited responses by kind. It outlives a limiter so a
// reload that changes the settings does not reset the counters. With
// log_only the counts are what would have been dropped or slipped.
type Stats struct {
	Dropped, Slipped [NumKinds]atomic.Uint64
}

// ways is the associativity: an account competes for its bucket's slots
// only, and the least recently used of them is evicted.
const ways = 8

// logPerSecond bounds the "limiting" lines; the rest are counted and
// reported by Sweep.
const logPerSecond = 10

type entry struct {
	balance int32
	stamp   int32  // seconds since the limiter started, +1; last credit
	lastLim int32  // when a response was last limited
	limited uint32 // responses limited in the current run; 0: not limited
	slipCnt uint8
	kind    Kind
	logged  bool // the start of this run was logged, so its end is too
	bits    uint8
	net     [16]byte
}

// bucket keeps its keys together, so finding an account reads one cache
// line of keys and then the one entry.
type bucket struct {
	mu   sync.Mutex
	keys [ways]uint64 // 0: free
	e    [ways]entry
}

// Limiter charges responses to accounts. It is safe for concurrent use.
type Limiter struct {
	cfg      Config
	rates    [NumKinds]int32
	buckets  []bucket
	salt     uint64 // per limiter, so accounts cannot be aimed at one bucket
	stats    *Stats
	log      *slog.Logger
	start    time.Time
	now      func() time.Time
	entries  atomic.Int64
	evicted  atomic.Uint64
	logSec   atomic.Int32
	logN     atomic.Int32
	unlogged atomic.Uint64
}

// Option adjusts a Limiter (tests).
type Option func(*Limiter)

// WithClock makes the limiter read the time from now.
func WithClock(now func() time.Time) Option { return func(l *Limiter) { l.now = now } }

// New returns a limiter for cfg (defaults already applied), counting into
// stats (nil: its own).
func New(cfg Config, stats *Stats, log *slog.Logger, opts ...Option) *Limiter {
	if stats == nil {
		stats = new(Stats)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	size := min(max(cfg.TableSize, ways), MaxTableSize)
	l := &Limiter{cfg: cfg, buckets: make([]bucket, (size+ways-1)/ways), salt: maphash.Comparable(maphash.MakeSeed(), 0) | 1,
		stats: stats, log: log, now: time.Now}
	l.rates = [NumKinds]int32{int32(cfg.ResponsesPerSecond), int32(cfg.ResponsesPerSecond),
		int32(cfg.NXDomainsPerSecond), int32(cfg.ErrorsPerSecond)}
	for _, o := range opts {
		o(l)
	}
	l.start = l.now()
	return l
}

// Config is the limiter's configuration.
func (l *Limiter) Config() *Config { return &l.cfg }

// Stats are the counters the limiter adds to.
func (l *Limiter) Stats() *Stats { return l.stats }

// Entries is the number of accounts in the table.
func (l *Limiter) Entries() int { return int(l.entries.Load()) }

// Capacity is the most accounts the table holds.
func (l *Limiter) Capacity() int { return len(l.buckets) * ways }

// Evicted counts accounts evicted to make room for another.
func (l *Limiter) Evicted() uint64 { return l.evicted.Load() }

func (l *Limiter) seconds(now time.Time) int32 { return int32(now.Sub(l.start)/time.Second) + 1 }

// Account charges one response of kind to src's network now. name
// (lowercase wire) and qtype say what it answers: the qname and qtype of an
// answer, the qname alone (qtype 0) for NODATA, the delegation point of a
// referral, the zone of an NXDOMAIN, nothing for an error.
func (l *Limiter) Account(kind Kind, src netip.Addr, qtype uint16, name []byte) Verdict {
	return l.AccountAt(l.now(), kind, src, qtype, name)
}

// AccountAt is Account at a time the caller read: a UDP reader reads the
// clock once per batch of queries, since only seconds count.
func (l *Limiter) AccountAt(at time.Time, kind Kind, src netip.Addr, qtype uint16, name []byte) Verdict {
	rate := l.rates[kind]
	if rate <= 0 {
		return Send
	}
	src = src.Unmap()
	for _, p := range l.cfg.Exempt {
		if p.Contains(src) {
			return Send
		}
	}
	var net [16]byte
	bits := l.network(src, &net)
	key := l.key(kind, &net, bits, qtype, name)
	now := l.seconds(at)
	b := &l.buckets[uint64(uint32(key>>32))*uint64(len(l.buckets))>>32]
	b.mu.Lock()
	e, found, old := l.slot(b, key)
	if !found {
		*e = entry{kind: kind, bits: bits, net: net}
	}
	v := l.debit(e, kind, rate, now)
	start := v != Send && e.limited == 1
	if start {
		e.logged = l.mayLog(now)
	}
	logStart := start && e.logged
	b.mu.Unlock()
	if old.logged {
		l.logStop(&old, "evicted")
	}
	if v == Send {
		return Send
	}
	if v == Slip {
		l.stats.Slipped[kind].Add(1)
	} else {
		l.stats.Dropped[kind].Add(1)
	}
	if logStart {
		l.logStart(kind, &net, bits, qtype, name)
	}
	if l.cfg.LogOnly {
		return Send
	}
	return v
}

// slot finds key's entry in b, or takes one for it: a free one, else the
// least recently credited, whose state is returned when it was limited so
// the end of its run can be logged.
func (l *Limiter) slot(b *bucket, key uint64) (e *entry, found bool, evicted entry) {
	free := -1
	for i, k := range b.keys {
		if k == key {
			return &b.e[i], true, entry{}
		}
		if k == 0 && free < 0 {
			free = i
		}
	}
	if free >= 0 {
		l.entries.Add(1)
		b.keys[free] = key
		return &b.e[free], false, entry{}
	}
	victim := 0
	for i := range b.e {
		if b.e[i].stamp < b.e[victim].stamp {
			victim = i
		}
	}
	l.evicted.Add(1)
	b.keys[victim] = key
	e = &b.e[victim]
	if e.limited > 0 {
		evicted = *e
	}
	return e, false, evicted
}

// debit is BIND's debit_rrl_entry: credit rate per second since the last
// credit (capped at rate, a fresh start after window idle seconds), take
// one, and limit below zero, with the balance floored at -window×rate.
func (l *Limiter) debit(e *entry, kind Kind, rate, now int32) Verdict {
	window := int32(l.cfg.Window)
	age := now - e.stamp
	switch {
	case e.stamp == 0 || age > window || age < 0:
		e.balance, e.slipCnt, e.stamp = rate, 0, now
	case age >= 1:
		bal := int64(e.balance) + int64(rate)*int64(age)
		if bal >= int64(rate) {
			bal, e.slipCnt = int64(rate), 0
		}
		e.balance, e.stamp = int32(bal), now
	}
	e.balance--
	if e.balance >= 0 {
		return Send
	}
	if floor := -window * rate; e.balance < floor {
		e.balance = floor
	}
	e.lastLim = now
	e.limited++
	if kind == Error || l.cfg.Slip <= 0 {
		return Drop
	}
	slip := e.slipCnt == 0
	e.slipCnt++
	if int(e.slipCnt) >= l.cfg.Slip {
		e.slipCnt = 0
	}
	if slip {
		return Slip
	}
	return Drop
}

// network masks src to its accounting prefix.
func (l *Limiter) network(src netip.Addr, out *[16]byte) uint8 {
	if src.Is4() {
		a := src.As4()
		copy(out[:4], a[:])
		maskBits(out[:4], l.cfg.IPv4Prefix)
		return uint8(l.cfg.IPv4Prefix)
	}
	*out = src.As16()
	maskBits(out[:], l.cfg.IPv6Prefix)
	return uint8(l.cfg.IPv6Prefix) | 0x80 // the high bit marks IPv6
}

func maskBits(b []byte, bits int) {
	for i := range b {
		switch {
		case bits >= 8:
			bits -= 8
		case bits > 0:
			b[i] &= ^byte(0xFF >> bits)
			bits = 0
		default:
			b[i] = 0
		}
	}
}

func (l *Limiter) key(kind Kind, net *[16]byte, bits uint8, qtype uint16, name []byte) uint64 {
	lo := le64(net[:8])
	hi := le64(net[8:])
	k := l.hashName(name) ^ mix(lo^l.salt) ^ mix(hi^uint64(kind)<<56^uint64(qtype)<<32^uint64(bits)<<16)
	if k == 0 {
		k = 1
	}
	return k
}

// hashName hashes a wire name a word at a time; names are short, and a
// seeded multiply-mix per word is cheaper than a general hash for them.
func (l *Limiter) hashName(name []byte) uint64 {
	h := l.salt ^ uint64(len(name))
	for len(name) >= 8 {
		h = mix(h ^ le64(name))
		name = name[8:]
	}
	var tail [8]byte
	copy(tail[:], name)
	return mix(h ^ le64(tail[:]))
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// mix is splitmix64's finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
