package health

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// fakeProber fails the addresses marked down and counts its calls.
type fakeProber struct {
	mu    sync.Mutex
	down  map[netip.Addr]bool
	calls map[netip.Addr]int
	// flap, when set, decides each result from the call number (1, 2, ...).
	flap   func(n int) bool
	called chan netip.Addr // when set, hears every call
}

func newFake() *fakeProber {
	return &fakeProber{down: map[netip.Addr]bool{}, calls: map[netip.Addr]int{}}
}

func (f *fakeProber) set(a netip.Addr, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[a] = down
}

func (f *fakeProber) count(a netip.Addr) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[a]
}

func (f *fakeProber) probe(ctx context.Context, t *ServiceType, a netip.Addr) error {
	f.mu.Lock()
	f.calls[a]++
	n, down := f.calls[a], f.down[a]
	if f.flap != nil {
		down = !f.flap(n)
	}
	ch := f.called
	f.mu.Unlock()
	if ch != nil {
		select {
		case ch <- a:
		case <-ctx.Done():
		}
	}
	if down {
		return errors.New("connection refused")
	}
	return nil
}

// syncBuffer is a log sink safe for the monitor's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	*Monitor
	fake *fakeProber
	logs *syncBuffer
	reg  *prometheus.Registry
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{fake: newFake(), logs: &syncBuffer{}, reg: prometheus.NewRegistry()}
	h.Monitor = New(Options{Logger: slog.New(slog.NewTextHandler(h.logs, nil)), Registerer: h.reg})
	h.Monitor.probe = h.fake.probe
	h.Monitor.jit = func() float64 { return 0 }
	return h
}

// run starts Run until the test ends.
func (h *harness) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// waitFor waits on Changed until cond holds for the published snapshot.
func (h *harness) waitFor(t *testing.T, what string, cond func(*Snapshot) bool) {
	t.Helper()
	deadline := time.After(20 * time.Second) // a hang, not a timing assertion
	for !cond(h.Snapshot()) {
		select {
		case <-h.Changed():
		case <-deadline:
			t.Fatalf("never published: %s\nlogs:\n%s", what, h.logs)
		}
	}
}

func key(addr, svc string) Key { return Key{Addr: netip.MustParseAddr(addr), Service: svc} }

func state(t *testing.T, s *Snapshot, k Key) State {
	t.Helper()
	st, ok := s.State(k)
	if !ok {
		t.Fatalf("%s not in the snapshot (keys %v)", k, s.Keys())
	}
	return st
}

func tcpType(name string, port uint16) *ServiceType {
	return &ServiceType{Name: name, Plugin: "tcp_connect", Port: port, Interval: 10 * time.Second, Timeout: 5 * time.Second,
		UpThresh: 20, OKThresh: 10, DownThresh: 10}
}

func TestSetInitialRound(t *testing.T) {
	h := newHarness(t)
	a, b, c, d, e := key("127.0.0.1", "web"), key("127.0.0.2", "web"), key("127.0.0.3", "up"), key("127.0.0.4", "down"), key("127.0.0.5", "fixed")
	h.fake.set(b.Addr, true)
	types := map[string]*ServiceType{"web": tcpType("web", 80), "fixed": {Name: "fixed", Plugin: "static", State: "down", TTL: 60}}
	h.Set(context.Background(), types, []Key{a, b, c, d, e, key("127.0.0.6", "nosuch"), a})
	if n := h.fake.count(a.Addr); n != 1 {
		t.Errorf("%s given twice was checked %d times, want once", a, n)
	}

	s := h.Snapshot()
	want := map[Key]State{a: {TTL: 100}, b: {Down: true, TTL: 200, LastError: "connection refused"},
		c: {TTL: MaxTTL}, d: {Down: true, TTL: MaxTTL}, e: {Down: true, TTL: 60}}
	for k, w := range want {
		got := state(t, s, k)
		if got.Down != w.Down || got.TTL != w.TTL || got.LastError != w.LastError {
			t.Errorf("%s = %+v, want %+v", k, got, w)
		}
	}
	if len(s.Keys()) != len(want) {
		t.Errorf("keys %v: the unknown service type's pair should be left out", s.Keys())
	}
	if st := state(t, s, a); st.LastCheck.IsZero() {
		t.Errorf("%s has no LastCheck after its initial check", a)
	}
	if !strings.Contains(h.logs.String(), "unknown service type") {
		t.Errorf("no log for the unknown service type:\n%s", h.logs)
	}
	if got := value(h.met.state.WithLabelValues("127.0.0.2", "web")); got != 0 {
		t.Errorf("state gauge of %s = %v, want 0", b, got)
	}
}

func TestSetKeepsStateOfUnchangedPairs(t *testing.T) {
	h := newHarness(t)
	a, b, gone := key("127.0.0.1", "web"), key("127.0.0.2", "web"), key("127.0.0.3", "web")
	h.fake.set(b.Addr, true)
	h.Set(context.Background(), map[string]*ServiceType{"web": tcpType("web", 80)}, []Key{a, b, gone})
	gen := h.Snapshot().Generation()

	// The servers change; an Equal type (a new value) checks nothing again.
	h.fake.set(a.Addr, true)
	h.fake.set(b.Addr, false)
	c := key("127.0.0.4", "web")
	h.fake.set(c.Addr, true)
	h.Set(context.Background(), map[string]*ServiceType{"web": tcpType("web", 80)}, []Key{a, b, c})
	s := h.Snapshot()
	if s.Generation() <= gen {
		t.Errorf("generation %d after %d", s.Generation(), gen)
	}
	if state(t, s, a).Down || !state(t, s, b).Down {
		t.Errorf("kept pairs changed state: %+v %+v", state(t, s, a), state(t, s, b))
	}
	if h.fake.count(a.Addr) != 1 || h.fake.count(b.Addr) != 1 {
		t.Errorf("kept pairs checked again: %d, %d calls", h.fake.count(a.Addr), h.fake.count(b.Addr))
	}
	if !state(t, s, c).Down {
		t.Errorf("new pair %s: %+v, want its initial check's DOWN", c, state(t, s, c))
	}
	if _, ok := s.State(gone); ok {
		t.Errorf("removed pair %s still published", gone)
	}

	// A changed type is a new monitor: its initial round sets the state.
	h.Set(context.Background(), map[string]*ServiceType{"web": tcpType("web", 8080)}, []Key{a, b})
	s = h.Snapshot()
	if !state(t, s, a).Down || state(t, s, b).Down || h.fake.count(a.Addr) != 2 {
		t.Errorf("after a type change: %+v %+v (%d checks of %s)", state(t, s, a), state(t, s, b), h.fake.count(a.Addr), a)
	}
}

func TestRunAntiFlap(t *testing.T) {
	h := newHarness(t)
	a := key("127.0.0.1", "web")
	typ := &ServiceType{Name: "web", Plugin: "tcp_connect", Port: 80, Interval: 5 * time.Millisecond, UpThresh: 3, OKThresh: 2, DownThresh: 2}
	h.Set(context.Background(), map[string]*ServiceType{"web": typ}, []Key{a})
	h.run(t)

	h.fake.set(a.Addr, true)
	h.waitFor(t, "DOWN after down_thresh failures", func(s *Snapshot) bool { st, _ := s.State(a); return st.Down })
	h.fake.set(a.Addr, false)
	h.waitFor(t, "UP after up_thresh successes", func(s *Snapshot) bool { st, _ := s.State(a); return !st.Down })

	logs := h.logs.String()
	if n := strings.Count(logs, "health: state changed"); n != 2 {
		t.Errorf("%d transition lines, want 2 (one per transition, none per check):\n%s", n, logs)
	}
	if !strings.Contains(logs, `key=127.0.0.1/web from=UP to=DOWN reason="connection refused"`) {
		t.Errorf("no UP→DOWN line with its reason:\n%s", logs)
	}
	for to, want := range map[string]float64{"down": 1, "up": 1} {
		if got := value(h.met.transitions.WithLabelValues("127.0.0.1", "web", to)); got != want {
			t.Errorf("transitions to %s = %v, want %v", to, got, want)
		}
	}
}

func TestSetWhileRunning(t *testing.T) {
	h := newHarness(t)
	a, b := key("127.0.0.1", "web"), key("127.0.0.2", "web")
	typ := func() map[string]*ServiceType {
		return map[string]*ServiceType{"web": {Name: "web", Plugin: "tcp_connect", Port: 80, Interval: 5 * time.Millisecond, UpThresh: 2, OKThresh: 1, DownThresh: 2}}
	}
	h.Set(context.Background(), typ(), []Key{a})
	h.run(t)

	h.fake.set(b.Addr, true)
	h.Set(context.Background(), typ(), []Key{a, b})
	if st := state(t, h.Snapshot(), b); !st.Down {
		t.Fatalf("%s after its initial round: %+v, want DOWN", b, st)
	}
	// b is scheduled: successes bring it UP.
	h.fake.set(b.Addr, false)
	h.waitFor(t, "the added pair UP", func(s *Snapshot) bool { st, _ := s.State(b); return !st.Down })

	// a is removed: its schedule stops (one check may have been under way).
	h.Set(context.Background(), typ(), []Key{b})
	stopped := h.fake.count(a.Addr)
	h.fake.set(b.Addr, true)
	h.waitFor(t, "the kept pair DOWN", func(s *Snapshot) bool { st, _ := s.State(b); return st.Down })
	if n := h.fake.count(a.Addr); n > stopped+1 {
		t.Errorf("removed pair checked %d more times", n-stopped)
	}
	if _, ok := h.Snapshot().State(a); ok {
		t.Errorf("removed pair still published")
	}
}

func TestFlappingServerDoesNotFlap(t *testing.T) {
	h := newHarness(t)
	a := key("127.0.0.1", "web")
	typ := &ServiceType{Name: "web", Plugin: "tcp_connect", Port: 80, Interval: 2 * time.Millisecond, UpThresh: 3, OKThresh: 2, DownThresh: 3}
	h.fake.flap = func(n int) bool { return n%2 == 1 } // the initial check succeeds, then fail, ok, fail, ...
	h.fake.called = make(chan netip.Addr)
	go func() { <-h.fake.called }() // the initial round's call
	h.Set(context.Background(), map[string]*ServiceType{"web": typ}, []Key{a})
	h.run(t)
	// Wait for call 41: the results of the 40 before it are applied.
	for range 40 {
		<-h.fake.called
	}
	h.fake.mu.Lock()
	h.fake.called = nil
	h.fake.mu.Unlock()
	// A call already holding the channel waits for Run's end.
	h.waitFor(t, "DOWN", func(s *Snapshot) bool { st, _ := s.State(a); return st.Down })
	if n := strings.Count(h.logs.String(), "health: state changed"); n != 1 {
		t.Errorf("%d transitions for a flapping server, want 1 (failures accumulate, successes never reach up_thresh):\n%s", n, h.logs)
	}
}

func TestPublicationIsNonBlocking(t *testing.T) {
	h := newHarness(t)
	// Nobody reads Changed: Sets still publish and return.
	for i := range 5 {
		h.Set(context.Background(), map[string]*ServiceType{"web": tcpType("web", uint16(80+i))}, []Key{key("127.0.0.1", "web")})
	}
	if g := h.Snapshot().Generation(); g != 5 {
		t.Errorf("generation %d after 5 Sets", g)
	}
}

// value reads a gauge's or counter's value.
func value(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	if m.Gauge != nil {
		return m.GetGauge().GetValue()
	}
	return m.GetCounter().GetValue()
}
