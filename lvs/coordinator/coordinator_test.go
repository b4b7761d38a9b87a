package coordinator

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/pool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

type fixture struct {
	c       *Coordinator
	log     *bytes.Buffer
	notices int
	reg     *prometheus.Registry
}

func newFixture(t *testing.T, threshold float64, drain bool, hosts ...string) *fixture {
	t.Helper()
	f := &fixture{log: &bytes.Buffer{}, reg: prometheus.NewRegistry()}
	set := Settings{Name: "text_443", Port: 443, Forward: ipvs.DirectRoute, DepoolThreshold: threshold, DrainOnDepool: drain,
		Monitors: []string{"ProxyFetch"},
		Service:  ipvs.Service{Key: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 443}, Scheduler: "wrr"}}
	f.c = New(set, slog.New(slog.NewTextHandler(f.log, nil)), NewMetrics(f.reg), func() { f.notices++ })
	p := pool.Pool{}
	for _, h := range hosts {
		p[h] = pool.Server{Enabled: true, Weight: 10}
	}
	f.c.UpdatePool(p)
	for i, h := range hosts {
		f.c.SetResolved(h, netip.AddrFrom4([4]byte{10, 64, 0, byte(i + 1)}))
	}
	return f
}

func hosts(n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("mw%02d", i))
	}
	return out
}

func (f *fixture) pooled() (n int, pooledDown []string) {
	s := f.c.Snapshot()
	for _, srv := range s.Servers {
		if srv.Pooled {
			n++
		}
	}
	return n, s.PooledDown
}

func TestThresholdArithmetic(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		threshold float64
		down      int
		// wantDepooled is how many of the down servers leave the pool.
		wantDepooled int
	}{
		{"half of 10", 10, 0.5, 6, 5},
		{"half of 10, exactly at threshold", 10, 0.5, 5, 5},
		{"0.7 of 10", 10, 0.7, 4, 3},
		// PyBal's float arithmetic: 100 × 0.07 = 7.000000000000001, so the
		// depool that would leave exactly 7 up is refused.
		{"0.07 of 100 (float quirk)", 100, 0.07, 94, 92},
		{"0.7 of 20", 20, 0.7, 8, 6},
		{"threshold 0 depools all", 3, 0, 3, 3},
		{"threshold 1 depools none", 4, 1, 2, 0},
		{"single server", 1, 0.5, 1, 0},
		{"two servers", 2, 0.5, 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := hosts(tc.n)
			f := newFixture(t, tc.threshold, false, hs...)
			if n, _ := f.pooled(); n != tc.n {
				t.Fatalf("start: %d pooled, want all %d (optimistic start)", n, tc.n)
			}
			for _, h := range hs[:tc.down] {
				f.c.MonitorResult(h, "ProxyFetch", false, "Connection refused")
			}
			n, pd := f.pooled()
			if got := tc.n - n; got != tc.wantDepooled {
				t.Errorf("depooled %d, want %d", got, tc.wantDepooled)
			}
			if len(pd) != tc.down-tc.wantDepooled {
				t.Errorf("pooled-but-down %v, want %d", pd, tc.down-tc.wantDepooled)
			}
			if tc.down > tc.wantDepooled && !strings.Contains(f.log.String(), "Could not depool server "+hs[tc.wantDepooled]+" because of too many down!") {
				t.Errorf("log lacks could-not-depool line:\n%s", f.log)
			}
			if got := metricValue(t, f.c.metrics.couldNotDepool.WithLabelValues("text_443")); got != float64(tc.down-tc.wantDepooled) {
				t.Errorf("could_not_depool_total = %v", got)
			}
			if got := metricValue(t, f.c.metrics.pooledDown.WithLabelValues("text_443")); got != float64(len(pd)) {
				t.Errorf("pooled_down_servers = %v", got)
			}
		})
	}
}

func TestRepoolDepoolsPooledDown(t *testing.T) {
	hs := hosts(4)
	f := newFixture(t, 0.5, false, hs...)
	for _, h := range hs[:3] {
		f.c.MonitorResult(h, "ProxyFetch", false, "timeout")
	}
	// mw01, mw02 depooled; mw03 kept pooled but down.
	if n, pd := f.pooled(); n != 2 || len(pd) != 1 || pd[0] != "mw03" {
		t.Fatalf("pooled %d, pooled-down %v", n, pd)
	}
	f.c.MonitorResult("mw01", "ProxyFetch", true, "")
	// mw01 back: up = mw01, mw04 = 2 ≥ 4 × .5 → mw03 can go.
	s, _ := f.c.Server("mw03")
	if s.Pooled {
		t.Error("mw03 should have been depooled once mw01 came back")
	}
	if s, _ := f.c.Server("mw01"); !s.Pooled || !s.Up {
		t.Errorf("mw01: %s", s.TextStatus())
	}
	if !strings.Contains(f.log.String(), "Server mw01 (enabled/down/not pooled) is up") {
		t.Errorf("log:\n%s", f.log)
	}
	// The down server coming back while pooled-but-down stays pooled.
	f2 := newFixture(t, 0.5, false, hs...)
	for _, h := range hs[:3] {
		f2.c.MonitorResult(h, "ProxyFetch", false, "x")
	}
	f2.c.MonitorResult("mw03", "ProxyFetch", true, "")
	if !strings.Contains(f2.log.String(), "Leaving previously pooled but down server mw03 pooled") {
		t.Errorf("log:\n%s", f2.log)
	}
	if _, pd := f2.pooled(); len(pd) != 0 {
		t.Errorf("pooled-down after return: %v", pd)
	}
}

func TestDisabledCountInDenominator(t *testing.T) {
	f := newFixture(t, 0.5, false, hosts(4)...)
	f.c.UpdatePool(pool.Pool{"mw01": {Enabled: false, Weight: 10}, "mw02": {Enabled: true, Weight: 10}, "mw03": {Enabled: true, Weight: 10}, "mw04": {Enabled: true, Weight: 10}})
	if s, _ := f.c.Server("mw01"); s.Pooled {
		t.Fatal("disabled server pooled")
	}
	f.c.MonitorResult("mw02", "ProxyFetch", false, "x") // up∧enabled 2 ≥ 2: depooled
	f.c.MonitorResult("mw03", "ProxyFetch", false, "x") // 1 < 2: kept
	if n, pd := f.pooled(); n != 2 || len(pd) != 1 {
		t.Errorf("pooled %d, pooled-down %v", n, pd)
	}
}

func TestForcePoolAfterPoolChange(t *testing.T) {
	f := newFixture(t, 0.5, false, hosts(4)...)
	f.c.MonitorResult("mw01", "ProxyFetch", false, "x")
	f.c.MonitorResult("mw02", "ProxyFetch", false, "x")
	if n, pd := f.pooled(); n != 2 || len(pd) != 0 {
		t.Fatalf("pooled %d, pooled-down %v", n, pd)
	}
	// Two new hosts that never resolve: 6 servers, 2 pooled < 3, so a down
	// but enabled server is forced in.
	p := pool.Pool{}
	for _, h := range hosts(6) {
		p[h] = pool.Server{Enabled: true, Weight: 10}
	}
	added, removed := f.c.UpdatePool(p)
	if len(added) != 2 || len(removed) != 0 {
		t.Errorf("added %v removed %v", added, removed)
	}
	n, pd := f.pooled()
	if n != 3 || len(pd) != 1 || pd[0] != "mw01" {
		t.Errorf("pooled %d, pooled-down %v", n, pd)
	}
	if !strings.Contains(f.log.String(), "Forcing server mw01 (enabled/down/not pooled) to be pooled") {
		t.Errorf("log:\n%s", f.log)
	}
	// Removals the threshold allows forget the hosts: those not pooled at
	// once, the pooled ones (mw01, mw04) through OnForget.
	var forgotten []string
	f.c.OnForget(func(h []string) { forgotten = append(forgotten, h...) })
	_, removed = f.c.UpdatePool(pool.Pool{"mw03": {Enabled: true, Weight: 10}})
	if strings.Join(removed, " ") != "mw02 mw05 mw06" || strings.Join(forgotten, " ") != "mw01 mw04" ||
		!strings.Contains(f.log.String(), "Removing server mw01 (no longer found in new configuration)") {
		t.Errorf("removed %v, forgotten %v", removed, forgotten)
	}
	if _, pd := f.pooled(); len(pd) != 0 {
		t.Errorf("removed host still pooled-down: %v", pd)
	}
}

func TestUnresolvedNotPooled(t *testing.T) {
	f := newFixture(t, 0.5, false)
	f.c.UpdatePool(pool.Pool{"a": {Enabled: true, Weight: 10}, "b": {Enabled: true, Weight: 10}})
	f.c.SetResolved("a", netip.MustParseAddr("10.64.0.1"))
	f.c.SetUnresolved("b", fmt.Errorf("no such host"))
	if s, _ := f.c.Server("b"); s.Pooled || s.TextStatus() != "enabled/partial/not pooled" {
		t.Errorf("b: %s", s.TextStatus())
	}
	if !strings.Contains(f.log.String(), "Initialization failed for server b, not pooled, will retry") {
		t.Errorf("log:\n%s", f.log)
	}
	d := f.c.Desired()
	if len(d.Destinations) != 1 || d.Destinations[0].Addr != netip.MustParseAddr("10.64.0.1") {
		t.Errorf("desired: %+v", d)
	}
	// A later resolution pools it; a failed re-resolution keeps it.
	f.c.SetResolved("b", netip.MustParseAddr("10.64.0.2"))
	f.c.SetUnresolved("b", fmt.Errorf("timeout"))
	if s, _ := f.c.Server("b"); !s.Pooled || s.Addr != netip.MustParseAddr("10.64.0.2") {
		t.Errorf("b after re-resolution failure: %+v", s)
	}
}

func TestDesired(t *testing.T) {
	tests := []struct {
		name  string
		drain bool
		want  string
	}{
		{"remove on depool", false, "10.64.0.2:443 w0, 10.64.0.3:443 w10, 10.64.0.4:443 w10"},
		{"drain on depool", true, "10.64.0.1:443 w0, 10.64.0.2:443 w0, 10.64.0.3:443 w10, 10.64.0.4:443 w10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 0.5, tc.drain, hosts(4)...)
			f.c.UpdatePool(pool.Pool{"mw01": {Enabled: true, Weight: 10}, "mw02": {Enabled: true, Weight: 0}, "mw03": {Enabled: true, Weight: 10}, "mw04": {Enabled: true, Weight: 10}})
			f.c.MonitorResult("mw01", "ProxyFetch", false, "x")
			var parts []string
			for _, d := range f.c.Desired().Destinations {
				parts = append(parts, fmt.Sprintf("%s:%d w%d", d.Addr, d.Port, d.Weight))
			}
			if got := strings.Join(parts, ", "); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestAllMonitorsMustBeUp(t *testing.T) {
	f := &fixture{log: &bytes.Buffer{}}
	set := Settings{Name: "s", Monitors: []string{"ProxyFetch", "IdleConnection"}, DepoolThreshold: 0}
	f.c = New(set, slog.New(slog.NewTextHandler(f.log, nil)), nil, nil)
	f.c.UpdatePool(pool.Pool{"a": {Enabled: true, Weight: 1}})
	f.c.SetResolved("a", netip.MustParseAddr("10.0.0.1"))
	f.c.MonitorResult("a", "ProxyFetch", false, "x")
	f.c.MonitorResult("a", "IdleConnection", false, "y")
	f.c.MonitorResult("a", "ProxyFetch", true, "")
	if s, _ := f.c.Server("a"); s.Up || s.Pooled {
		t.Errorf("up with one monitor down: %s", s.TextStatus())
	}
	f.c.MonitorResult("a", "IdleConnection", true, "")
	if s, _ := f.c.Server("a"); !s.Up || !s.Pooled || !f.c.HasPooledUp() {
		t.Errorf("not up with all monitors up: %s", s.TextStatus())
	}
}

func metricValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}

// BenchmarkDownUpDesired measures one server going down and up again in a
// 1000-server pool, with the desired IPVS state computed after each.
func BenchmarkDownUpDesired(b *testing.B) {
	c := New(Settings{Name: "s", DepoolThreshold: 0.5, Monitors: []string{"ProxyFetch"}, Port: 80}, slog.New(slog.DiscardHandler), nil, nil)
	p := pool.Pool{}
	for i := 0; i < 1000; i++ {
		p[fmt.Sprintf("mw%04d", i)] = pool.Server{Enabled: true, Weight: 10}
	}
	c.UpdatePool(p)
	for i := 0; i < 1000; i++ {
		c.SetResolved(fmt.Sprintf("mw%04d", i), netip.AddrFrom4([4]byte{10, 64, byte(i >> 8), byte(i)}))
	}
	for b.Loop() {
		c.MonitorResult("mw0500", "ProxyFetch", false, "x")
		if len(c.Desired().Destinations) != 999 {
			b.Fatal("not depooled")
		}
		c.MonitorResult("mw0500", "ProxyFetch", true, "")
		if len(c.Desired().Destinations) != 1000 {
			b.Fatal("not repooled")
		}
	}
}
