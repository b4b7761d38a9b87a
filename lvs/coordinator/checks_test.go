package coordinator

import (
	"fmt"
	"testing"
)

// Headroom predicts the depool threshold's decisions: with headroom h,
// the next h servers to go down are depooled and the one after stays
// pooled.
func TestHeadroomPredictsDepools(t *testing.T) {
	tests := []struct {
		n         int
		threshold float64
		want      int // at start, all up
	}{
		{10, 0.5, 5}, {10, 0.7, 3}, {100, 0.07, 92}, {20, 0.7, 6}, {3, 0, 3}, {4, 1, 0}, {1, 0.5, 0}, {2, 0.5, 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%g of %d", tc.threshold, tc.n), func(t *testing.T) {
			hs := hosts(tc.n)
			f := newFixture(t, tc.threshold, false, hs...)
			if got := f.c.Snapshot().Headroom; got != tc.want {
				t.Fatalf("headroom at start %d, want %d", got, tc.want)
			}
			for i, h := range hs {
				before := f.c.Snapshot().Headroom
				f.c.MonitorResult(h, "ProxyFetch", false, "Connection refused")
				s, _ := f.c.Server(h)
				if s.Pooled != (before == 0) {
					t.Fatalf("server %d down with headroom %d: pooled %v", i+1, before, s.Pooled)
				}
				if after := f.c.Snapshot().Headroom; before > 0 && after != before-1 {
					t.Fatalf("headroom %d after a depool from %d", after, before)
				}
			}
		})
	}
}

// A disabled server is no capacity: it takes headroom away as a down one.
func TestHeadroomCountsOnlyUpAndEnabled(t *testing.T) {
	f := newFixture(t, 0.5, false, hosts(4)...)
	f.c.UpdatePool(poolOf("n y y y"))
	if got := f.c.Snapshot().Headroom; got != 1 {
		t.Errorf("headroom %d, want 1 (3 up and enabled of 4, 2 needed)", got)
	}
}

// Checks report each configured monitor's verdict, its last raw result and
// the last failure's reason, which stays after the monitor recovers.
func TestChecksReportLastError(t *testing.T) {
	f := newFixture(t, 0, false, "mw01")
	s, _ := f.c.Server("mw01")
	if len(s.Checks) != 1 || s.Checks[0].Monitor != "ProxyFetch" || !s.Checks[0].Up || !s.Checks[0].Last.IsZero() || s.Checks[0].Error != "" {
		t.Fatalf("before any check: %+v", s.Checks)
	}
	f.c.Checked("mw01", "ProxyFetch", false, "Connection refused")
	s, _ = f.c.Server("mw01")
	if c := s.Checks[0]; !c.Up || c.LastUp || c.Error != "Connection refused" || c.ErrorAt.IsZero() || c.Last != c.ErrorAt {
		t.Errorf("after a failed check not yet damped: %+v", c)
	}
	f.c.MonitorResult("mw01", "ProxyFetch", false, "Connection refused")
	f.c.Checked("mw01", "ProxyFetch", true, "")
	snap := f.c.Snapshot()
	if c := snap.Servers[0].Checks[0]; c.Up || !c.LastUp || c.Error != "Connection refused" {
		t.Errorf("down verdict, then a good check: %+v", c)
	}
	set := f.c.Settings()
	set.Monitors = []string{"IdleConnection"}
	f.c.Reconfigure(set)
	s, _ = f.c.Server("mw01")
	if len(s.Checks) != 1 || s.Checks[0].Monitor != "IdleConnection" || s.Checks[0].Error != "" {
		t.Errorf("after the monitors changed: %+v", s.Checks)
	}
}
