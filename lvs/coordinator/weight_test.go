package coordinator

import (
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/lvs/pool"
)

// Failures that leave only weight-0 servers pooled keep the threshold
// (it counts servers) but are reported: log line, metric, NoCapacity.
func TestNoCapacityReported(t *testing.T) {
	f := newFixture(t, 0.5, false, hosts(4)...)
	f.c.UpdatePool(pool.Pool{"mw01": {Enabled: true, Weight: 10}, "mw02": {Enabled: true, Weight: 10},
		"mw03": {Enabled: true, Weight: 0}, "mw04": {Enabled: true, Weight: 0}})
	if f.c.NoCapacity() {
		t.Fatal("no capacity with two weight-10 servers pooled")
	}
	f.c.MonitorResult("mw01", "ProxyFetch", false, "x")
	f.c.MonitorResult("mw02", "ProxyFetch", false, "x")
	if n, _ := f.pooled(); n != 2 {
		t.Fatalf("%d pooled, want the two weight-0 servers", n)
	}
	if !f.c.NoCapacity() || f.c.Snapshot().PooledWeight != 0 {
		t.Error("no-capacity state not reported")
	}
	if got := metricValue(t, f.c.metrics.pooledWeight.WithLabelValues("text_443")); got != 0 {
		t.Errorf("lvsd_service_pooled_weight = %v", got)
	}
	if !strings.Contains(f.log.String(), "No capacity: 2 pooled server(s) of 4, total pooled weight 0") {
		t.Errorf("log:\n%s", f.log)
	}
	f.c.MonitorResult("mw01", "ProxyFetch", true, "")
	if f.c.NoCapacity() || f.c.Snapshot().PooledWeight != 10 || !strings.Contains(f.log.String(), "Capacity restored: total pooled weight 10") {
		t.Errorf("capacity back not reported:\n%s", f.log)
	}
	if got := metricValue(t, f.c.metrics.pooledWeight.WithLabelValues("text_443")); got != 10 {
		t.Errorf("lvsd_service_pooled_weight = %v", got)
	}
}
