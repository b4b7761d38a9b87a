package dnsserver

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// TCP admission. One client network may hold at most MaxTCPClientsPerIP
// connections, so a few sources cannot fill the pool; a full pool makes
// room by closing the connection idle longest, and refuses only when every
// connection is in the middle of a query. Once a new connection finds the
// pool over 3/4 full, idle connections are closed longest-idle first back
// down to 3/4, and connections go idle with PressureTCPIdleTimeout until the
// pool is back to half full (RFC 7766 §6.2.3 lets a server under pressure
// close idle connections and shorten its idle timeout).
const (
	DefaultMaxTCPClientsPerIP  = 16
	DefaultTCPClientIPv4Prefix = 32 // one IPv4 address
	DefaultTCPClientIPv6Prefix = 64 // one IPv6 subnet: a host often owns a whole /64
	// PressureTCPIdleTimeout is the idle timeout under pressure (or the
	// configured one when shorter): time enough for a client across the
	// internet to send its next query, short enough to turn the pool over.
	PressureTCPIdleTimeout = 2 * time.Second
	// tcpLimitLogInterval spaces the log lines of refused connections: a
	// client at its limit may retry at line rate.
	tcpLimitLogInterval = time.Minute
)

// Reasons a new TCP connection is refused, indexing the refusal counters.
const (
	RefusedMaxTCPClients      = iota // the pool is full and no connection is idle
	RefusedMaxTCPClientsPerIP        // the client's network holds its share
	NumTCPRefusals
)

// TCPRefusalNames label the refusal reasons: the configuration keys.
var TCPRefusalNames = [NumTCPRefusals]string{"max_tcp_clients", "max_tcp_clients_per_ip"}

// tcpLimits are the admission settings; Rebind replaces them.
type tcpLimits struct {
	max, perIP     int
	v4Bits, v6Bits int
	idle, pressure time.Duration
}

func limitsOf(cfg Config) tcpLimits {
	return tcpLimits{max: cfg.MaxTCPClients, perIP: cfg.MaxTCPClientsPerIP, v4Bits: cfg.TCPClientIPv4Prefix,
		v6Bits: cfg.TCPClientIPv6Prefix, idle: cfg.TCPIdleTimeout, pressure: min(PressureTCPIdleTimeout, cfg.TCPIdleTimeout)}
}

type connState uint8

const (
	connBusy    connState = iota // reading, answering or writing a query
	connIdle                     // waiting for the first byte of a query
	connEvicted                  // closed under pressure while idle
)

// tcpConn is one admitted connection.
type tcpConn struct {
	net.Conn
	src        netip.Addr
	key        netip.Prefix  // the client network the per-IP limit counts
	state      connState     // guarded by tcpPool.mu
	firstIdle  time.Duration // the idle timeout chosen at admission
	prev, next *tcpConn      // the idle list, while idle
}

// tcpPool admits TCP connections and tracks which are idle. Its lock is
// taken once per accept and at most twice per query (going idle, waking).
type tcpPool struct {
	mu           sync.Mutex
	lim          tcpLimits
	conns        map[*tcpConn]struct{} // admitted and not closed under pressure
	perKey       map[netip.Prefix]int
	idle         tcpConn // sentinel of the idle list: idle.next has waited longest
	pressure     bool    // set over 3/4 full, cleared at half full
	closing      bool
	stat         *Stats
	log          *slog.Logger
	now          func() time.Time // tests set a clock; nil: time.Now
	refusalLines [NumTCPRefusals]lineLimiter
}

func newTCPPool(lim tcpLimits, stat *Stats, log *slog.Logger) *tcpPool {
	p := &tcpPool{lim: lim, conns: map[*tcpConn]struct{}{}, perKey: map[netip.Prefix]int{}, stat: stat, log: log}
	p.idle.prev, p.idle.next = &p.idle, &p.idle
	return p
}

// clientKey is the network of src that the per-IP limit counts.
func (lim tcpLimits) clientKey(src netip.Addr) netip.Prefix {
	src = src.Unmap()
	bits := lim.v6Bits
	if src.Is4() {
		bits = lim.v4Bits
	}
	k, _ := src.Prefix(bits) // bits are checked by withDefaults
	return k
}

// admit takes c into the pool, closing idle connections as pressure
// requires, or returns nil: the caller closes c.
func (p *tcpPool) admit(c net.Conn) *tcpConn {
	var src netip.Addr
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		src = ap.Addr()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return nil
	}
	key := p.lim.clientKey(src)
	if p.perKey[key] >= p.lim.perIP {
		p.refuse(RefusedMaxTCPClientsPerIP, src, key, p.lim.perIP)
		return nil
	}
	if len(p.conns) >= p.lim.max && !p.evictIdle() {
		p.refuse(RefusedMaxTCPClients, src, key, p.lim.max)
		return nil
	}
	tc := &tcpConn{Conn: c, src: src, key: key}
	p.conns[tc] = struct{}{}
	p.perKey[key]++
	p.stat.TCPAccepted.Add(1)
	if p.over(3, 4) {
		p.pressure = true
		for p.over(3, 4) && p.evictIdle() {
		}
	}
	p.pushIdle(tc) // after evicting, so the newcomer is not its own victim
	tc.firstIdle = p.idleTimeout()
	return tc
}

// over tells whether the pool holds more than num/den of max.
func (p *tcpPool) over(num, den int) bool { return len(p.conns)*den > p.lim.max*num }

// evictIdle closes the connection idle longest; false if none is idle.
func (p *tcpPool) evictIdle() bool {
	tc := p.idle.next
	if tc == &p.idle {
		return false
	}
	p.unlink(tc)
	p.forget(tc)
	tc.state = connEvicted
	tc.Conn.Close() // its reader wakes with an error and leaves
	p.stat.TCPClosedIdle.Add(1)
	return true
}

// waitIdle marks tc idle before it waits for a query and returns the idle
// timeout; false when tc must close (shutdown, or closed under pressure).
func (p *tcpPool) waitIdle(tc *tcpConn) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing || tc.state == connEvicted {
		return 0, false
	}
	if tc.state == connIdle { // a new connection, idle from its admission
		return tc.firstIdle, true
	}
	p.pushIdle(tc)
	return p.idleTimeout(), true
}

func (p *tcpPool) idleTimeout() time.Duration {
	if p.pressure {
		return p.lim.pressure
	}
	return p.lim.idle
}

// wake marks tc busy once a query starts arriving and returns the timeout
// for reading the rest and writing the answer; false when tc was closed
// under pressure meanwhile.
func (p *tcpPool) wake(tc *tcpConn) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tc.state == connEvicted {
		return 0, false
	}
	if tc.state == connIdle {
		p.unlink(tc)
	}
	tc.state = connBusy
	return p.lim.idle, true
}

// release removes a closed connection.
func (p *tcpPool) release(tc *tcpConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tc.state == connEvicted {
		return // already forgotten
	}
	if tc.state == connIdle {
		p.unlink(tc)
	}
	p.forget(tc)
}

func (p *tcpPool) forget(tc *tcpConn) {
	delete(p.conns, tc)
	if p.perKey[tc.key]--; p.perKey[tc.key] <= 0 {
		delete(p.perKey, tc.key)
	}
	if p.pressure && !p.over(1, 2) {
		p.pressure = false
	}
}

func (p *tcpPool) pushIdle(tc *tcpConn) {
	tc.state = connIdle
	tc.prev, tc.next = p.idle.prev, &p.idle
	tc.prev.next, p.idle.prev = tc, tc
}

func (p *tcpPool) unlink(tc *tcpConn) {
	tc.prev.next, tc.next.prev = tc.next, tc.prev
	tc.prev, tc.next = nil, nil
}

// refuse counts a refused connection and logs it, at most one line per
// reason and tcpLimitLogInterval.
func (p *tcpPool) refuse(reason int, src netip.Addr, key netip.Prefix, limit int) {
	p.stat.TCPRefused[reason].Add(1)
	clock := p.now
	if clock == nil {
		clock = time.Now
	}
	unlogged, ok := p.refusalLines[reason].allow(clock(), tcpLimitLogInterval)
	if !ok {
		return
	}
	msg := "tcp: a client network is at max_tcp_clients_per_ip; its new connections are closed at once"
	if reason == RefusedMaxTCPClients {
		msg = "tcp: max_tcp_clients reached and no connection is idle; new connections are closed at once"
	}
	p.log.Warn(msg, "client", src.String(), "network", key.String(), "limit", limit,
		"refused_unlogged_before", unlogged)
}

func (p *tcpPool) isClosing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closing
}

// setLimits applies new settings to new connections and idle periods.
func (p *tcpPool) setLimits(lim tcpLimits) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lim = lim
}

// stats returns the open connections and the most one network holds.
func (p *tcpPool) stats() (open, maxPerKey int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.perKey {
		maxPerKey = max(maxPerKey, n)
	}
	return len(p.conns), maxPerKey
}

// shutdown refuses new connections, closes idle ones and wakes busy
// readers so they leave after the query in hand; closeAll closes every
// connection.
func (p *tcpPool) shutdown(closeAll bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closing = true
	for tc := range p.conns {
		if closeAll || tc.state == connIdle {
			// Closed rather than woken by a deadline, which a reader
			// about to wait could overwrite with its idle timeout.
			tc.Conn.Close()
		} else {
			tc.SetReadDeadline(time.Now())
		}
	}
}
