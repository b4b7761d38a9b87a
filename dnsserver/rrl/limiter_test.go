package rrl

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Unix(1000, 0)} }
func addr(s string) netip.Addr           { return netip.MustParseAddr(s) }
func wire(labels ...string) []byte       { return wireName(labels) }
func baseConfig() Config {
	return Config{ResponsesPerSecond: 5, NXDomainsPerSecond: 3, ErrorsPerSecond: 2, Window: 2, Slip: 2,
		IPv4Prefix: 24, IPv6Prefix: 56, TableSize: 64}
}

func wireName(labels []string) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

type tally struct{ send, slip, drop int }

func run(l *Limiter, n int, kind Kind, src string, qtype uint16, name []byte) (t tally) {
	for range n {
		switch l.Account(kind, addr(src), qtype, name) {
		case Send:
			t.send++
		case Slip:
			t.slip++
		case Drop:
			t.drop++
		}
	}
	return t
}

var www = wire("www", "example", "com")

func TestRateWithinASecond(t *testing.T) {
	l := New(baseConfig(), nil, nil, WithClock(newClock().now))
	got := run(l, 25, Response, "192.0.2.1", 1, www)
	if want := (tally{send: 5, slip: 10, drop: 10}); got != want {
		t.Fatalf("25 answers at rate 5, slip 2: got %+v, want %+v", got, want)
	}
	if s, d := l.Stats().Slipped[Response].Load(), l.Stats().Dropped[Response].Load(); s != 10 || d != 10 {
		t.Fatalf("counters: slipped %d dropped %d, want 10 and 10", s, d)
	}
}

func TestSlipSettings(t *testing.T) {
	for _, tc := range []struct {
		slip int
		want tally
	}{{0, tally{5, 0, 15}}, {1, tally{5, 15, 0}}, {3, tally{5, 5, 10}}} {
		cfg := baseConfig()
		cfg.Slip = tc.slip
		l := New(cfg, nil, nil, WithClock(newClock().now))
		if got := run(l, 20, Response, "192.0.2.1", 1, www); got != tc.want {
			t.Errorf("slip %d: got %+v, want %+v", tc.slip, got, tc.want)
		}
	}
}

func TestErrorsNeverSlip(t *testing.T) {
	l := New(baseConfig(), nil, nil, WithClock(newClock().now))
	if got, want := run(l, 10, Error, "192.0.2.1", 0, nil), (tally{send: 2, drop: 8}); got != want {
		t.Fatalf("errors: got %+v, want %+v", got, want)
	}
}

func TestKindsAndNamesHaveTheirOwnAccounts(t *testing.T) {
	l := New(baseConfig(), nil, nil, WithClock(newClock().now))
	zone := wire("example", "com")
	for _, c := range []struct {
		kind  Kind
		qtype uint16
		name  []byte
		rate  int
	}{
		{Response, 1, www, 5}, {Response, 28, www, 5}, {Response, 1, wire("mail", "example", "com"), 5},
		{Response, 0, www, 5}, {Referral, 0, wire("sub", "example", "com"), 5}, {NXDomain, 0, zone, 3}, {Error, 0, nil, 2},
	} {
		if got := run(l, 10, c.kind, "192.0.2.1", c.qtype, c.name); got.send != c.rate {
			t.Errorf("%s %d %q: %d of 10 sent, want %d (its own account)", KindNames[c.kind], c.qtype, c.name, got.send, c.rate)
		}
	}
}

func TestPrefixes(t *testing.T) {
	l := New(baseConfig(), nil, nil, WithClock(newClock().now))
	run(l, 5, Response, "192.0.2.1", 1, www)
	if v := l.Account(Response, addr("192.0.2.200"), 1, www); v == Send {
		t.Error("192.0.2.200 shares 192.0.2.0/24's account, yet was answered past the rate")
	}
	if v := l.Account(Response, addr("192.0.3.1"), 1, www); v != Send {
		t.Error("192.0.3.1 is another /24, yet was limited")
	}
	if v := l.Account(Response, addr("::ffff:192.0.2.7"), 1, www); v == Send {
		t.Error("a v4-mapped source is its IPv4 network")
	}
	run(l, 5, Response, "2001:db8:0:100::1", 1, www)
	if v := l.Account(Response, addr("2001:db8:0:1ff::9"), 1, www); v == Send {
		t.Error("2001:db8:0:1ff:: is in the same /56, yet was answered past the rate")
	}
	if v := l.Account(Response, addr("2001:db8:0:200::1"), 1, www); v != Send {
		t.Error("2001:db8:0:200:: is another /56, yet was limited")
	}
}

func TestCreditPerSecondAndFloor(t *testing.T) {
	c := newClock()
	l := New(baseConfig(), nil, nil, WithClock(c.now))
	run(l, 5+20, Response, "192.0.2.1", 1, www) // balance now at the floor, -window×rate = -10
	for i, want := range []int{0, 0, 1} {       // -10+5-1 = -6, -6+5-1 = -2, -2+5-1 = 2
		c.advance(time.Second)
		if got := run(l, 1, Response, "192.0.2.1", 1, www); got.send != want {
			t.Fatalf("second %d after the flood: %d sent, want %d (the balance climbs from -window×rate)", i+1, got.send, want)
		}
	}
	c.advance(3 * time.Second) // idle longer than window: a fresh account
	if got := run(l, 6, Response, "192.0.2.1", 1, www); got.send != 5 {
		t.Fatalf("after window idle seconds the account starts afresh: %d of 6 sent, want 5", got.send)
	}
}

func TestCreditCappedAtRate(t *testing.T) {
	c := newClock()
	l := New(baseConfig(), nil, nil, WithClock(c.now))
	run(l, 1, Response, "192.0.2.1", 1, www)
	c.advance(2 * time.Second) // within window: credit, capped at rate
	if got := run(l, 10, Response, "192.0.2.1", 1, www); got.send != 5 {
		t.Fatalf("credit is capped at one second's rate: %d sent, want 5", got.send)
	}
}

func TestExempt(t *testing.T) {
	cfg := baseConfig()
	cfg.Exempt = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}
	l := New(cfg, nil, nil, WithClock(newClock().now))
	if got := run(l, 50, Response, "198.51.100.9", 1, www); got.send != 50 {
		t.Fatalf("an exempt network got %d of 50 answers", got.send)
	}
	if l.Entries() != 0 {
		t.Fatalf("an exempt network opened %d accounts", l.Entries())
	}
}

func TestLogOnlyCountsButSends(t *testing.T) {
	cfg := baseConfig()
	cfg.LogOnly = true
	var buf bytes.Buffer
	l := New(cfg, nil, slog.New(slog.NewTextHandler(&buf, nil)), WithClock(newClock().now))
	if got := run(l, 25, Response, "192.0.2.1", 1, www); got.send != 25 {
		t.Fatalf("log_only sent %d of 25", got.send)
	}
	if s, d := l.Stats().Slipped[Response].Load(), l.Stats().Dropped[Response].Load(); s != 10 || d != 10 {
		t.Fatalf("log_only counts what it would have done: slipped %d dropped %d, want 10 and 10", s, d)
	}
	if !strings.Contains(buf.String(), "would rate limit responses") {
		t.Fatalf("log_only logs \"would ...\": %q", buf.String())
	}
}

func TestEvictionBoundsTheTable(t *testing.T) {
	cfg := baseConfig()
	cfg.TableSize = 16
	c := newClock()
	l := New(cfg, nil, nil, WithClock(c.now))
	for i := range 1000 {
		src := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
		l.Account(Response, src, 1, www)
		if i%100 == 0 {
			c.advance(time.Second)
		}
	}
	if l.Entries() > l.Capacity() || l.Capacity() != 16 {
		t.Fatalf("table holds %d of capacity %d", l.Entries(), l.Capacity())
	}
	if l.Evicted() < 1000-16 {
		t.Fatalf("evicted %d, want at least %d", l.Evicted(), 1000-16)
	}
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	cfg := baseConfig()
	cfg.TableSize = ways // one bucket
	cfg.Window = 60      // no account goes stale here
	c := newClock()
	l := New(cfg, nil, nil, WithClock(c.now))
	// Floods put both accounts far below zero (window 60: floor -300),
	// so only a fresh account answers.
	run(l, 100, Response, "192.0.2.1", 1, www) // the least recently used
	for i := range ways - 1 {
		c.advance(time.Second)
		run(l, 100, Response, netip.AddrFrom4([4]byte{10, 0, byte(i), 1}).String(), 1, www)
	}
	c.advance(time.Second)
	l.Account(Response, addr("10.9.9.9"), 1, www) // a ninth account for the bucket
	if v := l.Account(Response, addr("10.0.0.1"), 1, www); v == Send {
		t.Fatal("10.0.0.0/24 was used more recently than 192.0.2.0/24, yet its account was evicted")
	}
	if v := l.Account(Response, addr("192.0.2.1"), 1, www); v != Send {
		t.Fatal("192.0.2.0/24 was evicted; a new account answers")
	}
}

func TestLogsStartAndStopOnce(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	l := New(baseConfig(), nil, slog.New(slog.NewTextHandler(&buf, nil)), WithClock(c.now))
	run(l, 100, Response, "192.0.2.1", 1, www)
	l.Sweep()
	if n := strings.Count(buf.String(), "msg=\"rate limit responses\""); n != 1 {
		t.Fatalf("want one start line for 95 limited responses, got %d:\n%s", n, buf.String())
	}
	if strings.Contains(buf.String(), "stop") {
		t.Fatalf("stopped while still limited:\n%s", buf.String())
	}
	c.advance(3 * time.Second)
	l.Sweep()
	l.Sweep()
	if n := strings.Count(buf.String(), "stop rate limiting"); n != 1 {
		t.Fatalf("want one stop line after window quiet seconds, got %d:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "network=192.0.2.0/24") || !strings.Contains(buf.String(), "name=www.example.com.") {
		t.Fatalf("lines name the network and the name:\n%s", buf.String())
	}
}

func TestStartLinesAreBounded(t *testing.T) {
	var buf bytes.Buffer
	l := New(baseConfig(), nil, slog.New(slog.NewTextHandler(&buf, nil)), WithClock(newClock().now))
	for i := range 100 {
		run(l, 10, Response, netip.AddrFrom4([4]byte{10, 0, byte(i), 1}).String(), 1, www)
	}
	if n := strings.Count(buf.String(), "msg=\"rate limit responses\""); n != logPerSecond {
		t.Fatalf("%d start lines in one second, want %d", n, logPerSecond)
	}
	l.Sweep()
	if !strings.Contains(buf.String(), "accounts=90") {
		t.Fatalf("the sweep reports the 90 lines left out:\n%s", buf.String())
	}
}

func TestAccountAllocatesNothing(t *testing.T) {
	l := New(baseConfig(), nil, nil)
	src := addr("192.0.2.1")
	if n := testing.AllocsPerRun(1000, func() { l.Account(Response, src, 1, www) }); n != 0 {
		t.Fatalf("Account allocates %v times", n)
	}
}

// Readers of several sockets charge the same accounts while Sweep runs:
// every response is counted once (run with -race).
func TestConcurrentAccounting(t *testing.T) {
	l := New(baseConfig(), nil, nil)
	const workers, each = 4, 500
	var wg sync.WaitGroup
	var sent atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if l.Account(Response, netip.AddrFrom4([4]byte{10, 0, byte(i % 4), 1}), 1, www) == Send {
					sent.Add(1)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			l.Sweep()
		}
	}()
	wg.Wait()
	s := l.Stats()
	if got := sent.Load() + int64(s.Slipped[Response].Load()+s.Dropped[Response].Load()); got != workers*each {
		t.Fatalf("%d responses accounted, want %d", got, workers*each)
	}
}
