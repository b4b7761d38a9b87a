package dnsserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// fakeConn is a connection from a given address that records Close.
type fakeConn struct {
	net.Conn
	remote net.Addr
	closed bool
}

func (c *fakeConn) RemoteAddr() net.Addr            { return c.remote }
func (c *fakeConn) Close() error                    { c.closed = true; return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error { return nil }
func from(addr string) *fakeConn {
	return &fakeConn{remote: net.TCPAddrFromAddrPort(netip.MustParseAddrPort(addr))}
}
func testPool(lim tcpLimits, log io.Writer) *tcpPool {
	return newTCPPool(lim, new(Stats), slog.New(slog.NewTextHandler(log, nil)))
}
func testLimits(max, perIP, v4, v6 int) tcpLimits {
	return tcpLimits{max: max, perIP: perIP, v4Bits: v4, v6Bits: v6, idle: 30 * time.Second, pressure: time.Second}
}

func TestTCPPerClientNetworkLimit(t *testing.T) {
	var log testutil.SyncBuffer
	p := testPool(testLimits(100, 2, 24, 64), &log)
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }
	admitted := map[string]*tcpConn{}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"192.0.2.1:1000", true},
		{"192.0.2.200:1000", true},
		{"192.0.2.1:1001", false},          // the /24 holds its 2
		{"[::ffff:192.0.2.9]:1000", false}, // mapped IPv4 counts as IPv4
		{"198.51.100.1:1000", true},
		{"[2001:db8::1]:1000", true},
		{"[2001:db8::2:1]:1000", true},
		{"[2001:db8:0:0:1::1]:1000", false}, // the same /64
		{"[2001:db8:0:1::1]:1000", true},    // another /64
	} {
		c := from(tc.addr)
		got := p.admit(c)
		if (got != nil) != tc.ok {
			t.Fatalf("%s admitted = %v, want %v", tc.addr, got != nil, tc.ok)
		}
		if got != nil {
			admitted[tc.addr] = got
		}
	}
	if n := p.stat.TCPRefused[RefusedMaxTCPClientsPerIP].Load(); n != 3 {
		t.Errorf("refused per ip = %d, want 3", n)
	}
	if open, most := p.stats(); open != 6 || most != 2 {
		t.Errorf("open, most per network = %d, %d; want 6, 2", open, most)
	}
	// One line per interval, however many refusals.
	if n := strings.Count(log.String(), "max_tcp_clients_per_ip"); n != 1 {
		t.Errorf("%d log lines for 3 refusals in one interval, want 1:\n%s", n, log.String())
	}
	// A closed connection gives its network a place back.
	p.release(admitted["192.0.2.1:1000"])
	if p.admit(from("192.0.2.7:1")) == nil {
		t.Fatal("a place freed by a close was not given back")
	}
	if p.admit(from("192.0.2.8:1")) != nil {
		t.Fatal("the network went over its limit")
	}
	now = now.Add(tcpLimitLogInterval)
	p.admit(from("192.0.2.8:1"))
	if n := strings.Count(log.String(), "max_tcp_clients_per_ip"); n != 2 || !strings.Contains(log.String(), "refused_unlogged_before=3") {
		t.Errorf("after the interval: want a second line counting the unlogged refusal:\n%s", log.String())
	}
}

func TestTCPPressureClosesIdleLongestFirst(t *testing.T) {
	p := testPool(testLimits(8, 100, 32, 64), io.Discard)
	var conns []*tcpConn
	var raw []*fakeConn
	admit := func() *tcpConn {
		c := from("192.0.2.1:1")
		raw = append(raw, c)
		tc := p.admit(c)
		conns = append(conns, tc)
		return tc
	}
	for range 6 { // 3/4 of 8: no pressure yet
		admit()
	}
	if d, _ := p.waitIdle(conns[5]); d != 30*time.Second {
		t.Fatalf("idle timeout at 3/4 full = %v, want the configured 30s", d)
	}
	checkIdleList(t, p)
	// conns[0] is in the middle of a query: never closed.
	if _, ok := p.wake(conns[0]); !ok {
		t.Fatal("wake failed")
	}
	// conns[1] answered a query and went idle again: now idle the shortest.
	p.wake(conns[1])
	p.waitIdle(conns[1])
	checkIdleList(t, p)
	admit() // 7 > 3/4: the one idle longest goes
	checkIdleList(t, p)
	if !raw[2].closed || raw[0].closed || raw[1].closed {
		t.Fatalf("closed %v, want only conns[2] (idle longest)", closedOnes(raw))
	}
	// Admitted under pressure: the short timeout from the first wait.
	if d, _ := p.waitIdle(conns[6]); d != time.Second {
		t.Errorf("first idle timeout under pressure = %v, want 1s", d)
	}
	admit()
	if !raw[3].closed {
		t.Fatalf("closed %v, want conns[2] and conns[3]", closedOnes(raw))
	}
	checkIdleList(t, p)
	if got := p.stat.TCPClosedIdle.Load(); got != 2 {
		t.Errorf("closed under pressure = %d, want 2", got)
	}
	// A closed reader learns it on waking.
	if _, ok := p.wake(conns[2]); ok {
		t.Error("a connection closed under pressure was woken")
	}
	p.release(conns[2])
	if open, _ := p.stats(); open != 6 {
		t.Errorf("open = %d, want 6", open)
	}
	// Under pressure, connections go idle with the short timeout.
	if d, _ := p.waitIdle(conns[0]); d != time.Second {
		t.Errorf("idle timeout under pressure = %v, want 1s", d)
	}
	// Every connection busy and the pool full: refused.
	for _, tc := range conns {
		p.wake(tc)
	}
	p.wake(admit())
	p.wake(admit())
	if open, _ := p.stats(); open != 8 {
		t.Fatalf("open = %d, want 8", open)
	}
	if admit() != nil {
		t.Fatal("admitted into a full pool of busy connections")
	}
	if got := p.stat.TCPRefused[RefusedMaxTCPClients].Load(); got != 1 {
		t.Errorf("refused over max_tcp_clients = %d, want 1", got)
	}
	// Back to half full: the configured idle timeout again.
	for _, tc := range conns[:len(conns)-1] {
		if tc != nil && tc.state != connEvicted && open(p) > 4 {
			p.release(tc)
		}
	}
	if d, _ := p.waitIdle(conns[len(conns)-2]); d != 30*time.Second {
		t.Errorf("idle timeout at half full = %v, want 30s", d)
	}
	checkIdleList(t, p)
}

func open(p *tcpPool) int { n, _ := p.stats(); return n }

// checkIdleList fails unless the idle list holds each idle connection
// once, linked both ways.
func checkIdleList(t *testing.T, p *tcpPool) {
	t.Helper()
	seen := map[*tcpConn]bool{}
	for tc := p.idle.next; tc != &p.idle; tc = tc.next {
		if seen[tc] || tc.state != connIdle || tc.next.prev != tc {
			t.Fatalf("idle list broken at %p (state %d, seen %v)", tc, tc.state, seen[tc])
		}
		seen[tc] = true
	}
	for tc := range p.conns {
		if (tc.state == connIdle) != seen[tc] {
			t.Fatalf("connection in state %d listed %v", tc.state, seen[tc])
		}
	}
}

func closedOnes(raw []*fakeConn) (out []int) {
	for i, c := range raw {
		if c.closed {
			out = append(out, i)
		}
	}
	return out
}

// Shutdown closes idle connections at once instead of waiting out their
// idle timeout.
func TestShutdownClosesIdleTCP(t *testing.T) {
	s := startTest(t, "127.0.0.1:0")
	c, err := net.Dial("tcp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	testutil.WaitFor(t, "the connection admitted", func() bool { return s.TCPConns() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), testutil.WaitBound)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with an idle TCP client: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(testutil.WaitBound))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("idle client read %v, want EOF", err)
	}
}
