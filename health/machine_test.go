package health

import (
	"testing"
	"time"
)

// step is one event and the state and TTL after it.
type step struct {
	ok   bool
	down bool
	ttl  uint32
}

func TestMachine(t *testing.T) {
	// up 3, ok 2, down 3, interval 10 s: TTL = 10 × checks left.
	typ := &ServiceType{Interval: 10 * time.Second, UpThresh: 3, OKThresh: 2, DownThresh: 3}
	const F, S = false, true
	tests := []struct {
		name  string
		start machine
		steps []step
	}{
		{"success while UP without failures changes nothing", machine{}, []step{{S, F, 30}, {S, F, 30}}},
		{"down_thresh failures in a row take it DOWN", machine{}, []step{{F, F, 20}, {F, F, 10}, {F, S, 30}}},
		{"failures accumulate until ok_thresh successes clear them", machine{},
			[]step{{F, F, 20}, {S, F, 20}, {F, F, 10}, {S, F, 10}, {F, S, 30}}},
		{"ok_thresh successes in a row clear failures", machine{},
			[]step{{F, F, 20}, {F, F, 10}, {S, F, 10}, {S, F, 30}, {F, F, 20}, {F, F, 10}, {F, S, 30}}},
		{"a failure restarts the success count while UP", machine{},
			[]step{{F, F, 20}, {S, F, 20}, {F, F, 10}, {S, F, 10}, {S, F, 30}}},
		{"up_thresh successes in a row bring it UP", machine{down: true}, []step{{S, S, 20}, {S, S, 10}, {S, F, 30}}},
		{"a failure while DOWN restarts the count", machine{down: true},
			[]step{{S, S, 20}, {S, S, 10}, {F, S, 30}, {S, S, 20}, {S, S, 10}, {S, F, 30}}},
		{"failures while DOWN keep it DOWN", machine{down: true}, []step{{F, S, 30}, {F, S, 30}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.start
			for i, s := range tc.steps {
				ttl := m.event(typ, s.ok)
				if m.down != s.down || ttl != s.ttl {
					t.Fatalf("after event %d (ok=%v): down=%v ttl=%d, want down=%v ttl=%d", i+1, s.ok, m.down, ttl, s.down, s.ttl)
				}
			}
		})
	}
}

func TestMachineDefaultTTLs(t *testing.T) {
	typ := withDefaults(&ServiceType{Plugin: "tcp_connect"})
	up, down := machine{}, machine{down: true}
	if got := up.ttl(typ); got != 100 {
		t.Errorf("stable UP TTL = %d, want 100 (interval 10 × down_thresh 10)", got)
	}
	if got := down.ttl(typ); got != 200 {
		t.Errorf("stable DOWN TTL = %d, want 200 (interval 10 × up_thresh 20)", got)
	}
	long := &ServiceType{Interval: 100000 * time.Second, UpThresh: 65535, DownThresh: 65535, OKThresh: 1}
	if got := down.ttl(long); got != MaxTTL {
		t.Errorf("TTL = %d, want it capped at MaxTTL", got)
	}
}

func TestWithDefaults(t *testing.T) {
	c := withDefaults(&ServiceType{Plugin: "http_status"})
	if c.Interval != 10*time.Second || c.Timeout != 5*time.Second || c.UpThresh != 20 || c.OKThresh != 10 || c.DownThresh != 10 ||
		c.Port != 80 || c.URLPath != "/" || len(c.OKCodes) != 1 || c.OKCodes[0] != 200 {
		t.Errorf("defaults: %+v", c)
	}
	if c := withDefaults(&ServiceType{Interval: time.Second, Timeout: 3 * time.Second}); c.Timeout >= c.Interval {
		t.Errorf("timeout %v not below interval %v", c.Timeout, c.Interval)
	}
}

func TestSpread(t *testing.T) {
	const n = 8
	for _, j := range []float64{0, 0.5, 0.999} {
		for i := range n {
			d := spread(i, n, 8*time.Second, j)
			if lo, hi := time.Duration(i)*time.Second, time.Duration(i+1)*time.Second; d < lo || d >= hi {
				t.Errorf("spread(%d, %d, 8s, %v) = %v, want in its slot [%v, %v)", i, n, j, d, lo, hi)
			}
		}
	}
}
