package coordinator

import "testing"

func TestReconfigureKeepsState(t *testing.T) {
	hs := hosts(4)
	f := newFixture(t, 0.75, false, hs...)
	for _, h := range hs[:2] {
		f.c.MonitorResult(h, "ProxyFetch", false, "x")
	}
	// 4 × .75 = 3 up needed: mw01 is depooled, mw02 stays pooled but down.
	if n, pd := f.pooled(); n != 3 || len(pd) != 1 {
		t.Fatalf("pooled %d, pooled-down %v", n, pd)
	}
	set := f.c.Settings()
	set.DepoolThreshold = 0.5
	f.c.Reconfigure(set)
	// A lower threshold depools the pooled-but-down servers it now allows;
	// nothing is re-pooled or forgotten.
	if n, pd := f.pooled(); n != 2 || len(pd) != 0 {
		t.Errorf("after threshold .5: pooled %d, pooled-down %v", n, pd)
	}
	if s, _ := f.c.Server("mw01"); s.Up || s.Pooled || !s.Ready {
		t.Errorf("mw01: %s", s.TextStatus())
	}
	// Dropping the monitor that reported them down makes them up again.
	set.Monitors = nil
	f.c.Reconfigure(set)
	if s, _ := f.c.Server("mw01"); !s.Up || !s.Pooled {
		t.Errorf("mw01 without monitors: %s", s.TextStatus())
	}
}
