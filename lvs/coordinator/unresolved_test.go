package coordinator

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/lvs/pool"
)

// Hosts that never resolved count in the total but not as up, so they
// cannot be used to bypass the depool threshold (two real hosts plus two
// names that never resolve, threshold .5).
func TestUnresolvedHostsAreNotUp(t *testing.T) {
	f := newFixture(t, 0.5, false)
	f.c.UpdatePool(pool.Pool{
		"mw1": {Enabled: true, Weight: 10}, "mw2": {Enabled: true, Weight: 10},
		"mw-new1.invalid": {Enabled: true, Weight: 10}, "mw-new2.invalid": {Enabled: true, Weight: 10},
	})
	f.c.SetResolved("mw1", netip.MustParseAddr("10.64.0.1"))
	f.c.SetResolved("mw2", netip.MustParseAddr("10.64.0.2"))
	f.c.SetUnresolved("mw-new1.invalid", errors.New("no such host"))
	f.c.SetUnresolved("mw-new2.invalid", errors.New("no such host"))
	if s, _ := f.c.Server("mw-new1.invalid"); s.Up || s.TextStatus() != "enabled/partial/not pooled" {
		t.Errorf("unresolved host: %s", s.TextStatus())
	}
	f.c.MonitorResult("mw1", "ProxyFetch", false, "Connection refused")
	f.c.MonitorResult("mw2", "ProxyFetch", false, "Connection refused")
	// 4 servers × .5 needs 2 up: neither real host may leave the pool.
	n, pd := f.pooled()
	if n != 2 || len(pd) != 2 {
		t.Errorf("pooled %d, pooled-but-down %v; want both real hosts kept pooled", n, pd)
	}
	if !strings.Contains(f.log.String(), "because of too many down!") {
		t.Errorf("no could-not-depool line:\n%s", f.log)
	}
	if f.c.Snapshot().CanDepool {
		t.Error("can_depool with 0 of 4 up")
	}
	// Resolving later makes the host up (monitors optimistic) and pooled.
	f.c.SetResolved("mw-new1.invalid", netip.MustParseAddr("10.64.0.3"))
	if s, _ := f.c.Server("mw-new1.invalid"); !s.Up || !s.Pooled {
		t.Errorf("resolved host: %s", s.TextStatus())
	}
}
