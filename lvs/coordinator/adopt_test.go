package coordinator

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/prometheus/client_golang/prometheus"
)

// adoptedFixture is a coordinator of mw01-mw04 (10.64.0.1-4, weight 10 in
// the pool) started over the given kernel state.
func adoptedFixture(t *testing.T, kernel map[netip.Addr]uint32, monitors ...string) *fixture {
	t.Helper()
	f := &fixture{log: &bytes.Buffer{}, reg: prometheus.NewRegistry()}
	set := Settings{Name: "text_443", Port: 443, Forward: ipvs.DirectRoute, DepoolThreshold: .5, Monitors: monitors,
		Service: ipvs.Service{Key: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 443}, Scheduler: "wrr"}}
	f.c = New(set, slog.New(slog.NewTextHandler(f.log, nil)), NewMetrics(f.reg), nil)
	f.c.Adopt(kernel)
	f.c.UpdatePool(poolOf("y y y y"))
	for i, h := range hosts(4) {
		f.c.SetResolved(h, netip.AddrFrom4([4]byte{10, 64, 0, byte(i + 1)}))
	}
	return f
}

func (f *fixture) desired() string {
	var out []string
	for _, d := range f.c.Desired().Destinations {
		out = append(out, fmt.Sprintf("%s/%d", d.Addr, d.Weight))
	}
	return strings.Join(out, " ")
}

// Until a server's first check completes (every monitor reported once),
// its IPVS entry is the kernel's from before the restart, and its state
// follows it: up if present with a weight, else down. Each step is
// "HOST MONITOR up|down" (a damped verdict change), "HOST MONITOR checked"
// (a completed check), or "reload MONITOR..." (the monitors configured).
func TestAdoptedUntilFirstCheck(t *testing.T) {
	kernel := map[netip.Addr]uint32{netip.MustParseAddr("10.64.0.1"): 10, netip.MustParseAddr("10.64.0.2"): 7,
		netip.MustParseAddr("10.64.0.4"): 0}
	tests := []struct {
		name     string
		kernel   map[netip.Addr]uint32
		monitors []string
		steps    []string
		desired  string
		pooled   string
	}{
		{name: "before any check: the kernel's entries", kernel: kernel, monitors: []string{"ProxyFetch"},
			desired: "10.64.0.1/10 10.64.0.2/7 10.64.0.4/0", pooled: "mw01 mw02"},
		{name: "a dead server absent from the kernel stays out", kernel: kernel, monitors: []string{"ProxyFetch"},
			steps:   []string{"mw03 ProxyFetch checked"},
			desired: "10.64.0.1/10 10.64.0.2/7 10.64.0.4/0", pooled: "mw01 mw02"},
		{name: "checked servers follow their state and the pool's weight", kernel: kernel, monitors: []string{"ProxyFetch"},
			steps:   []string{"mw02 ProxyFetch up", "mw02 ProxyFetch checked", "mw04 ProxyFetch up", "mw04 ProxyFetch checked"},
			desired: "10.64.0.1/10 10.64.0.2/10 10.64.0.4/10", pooled: "mw01 mw02 mw04"},
		{name: "a server up in the kernel that fails its check is depooled", kernel: kernel, monitors: []string{"ProxyFetch"},
			steps:   []string{"mw04 ProxyFetch up", "mw04 ProxyFetch checked", "mw02 ProxyFetch down", "mw02 ProxyFetch checked"},
			desired: "10.64.0.1/10 10.64.0.4/10", pooled: "mw01 mw04"},
		{name: "every monitor must report", kernel: kernel, monitors: []string{"ProxyFetch", "IdleConnection"},
			steps:   []string{"mw02 ProxyFetch up", "mw02 ProxyFetch checked"},
			desired: "10.64.0.1/10 10.64.0.2/7 10.64.0.4/0", pooled: "mw01 mw02"},
		{name: "a monitor dropped by a reload is not waited for", kernel: kernel, monitors: []string{"ProxyFetch", "IdleConnection"},
			steps:   []string{"mw02 ProxyFetch checked", "reload ProxyFetch"},
			desired: "10.64.0.1/10 10.64.0.2/10 10.64.0.4/0", pooled: "mw01 mw02"},
		{name: "an empty kernel service stays empty; the threshold forces servers in once checked", kernel: map[netip.Addr]uint32{},
			monitors: []string{"ProxyFetch"}, steps: []string{"mw01 ProxyFetch checked", "mw02 ProxyFetch checked"},
			desired: "10.64.0.1/10 10.64.0.2/10", pooled: "mw01 mw02"},
		{name: "no monitors: nothing to wait for", kernel: kernel, desired: "10.64.0.1/10 10.64.0.2/10 10.64.0.3/10 10.64.0.4/10",
			pooled: "mw01 mw02 mw03 mw04"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := adoptedFixture(t, tc.kernel, tc.monitors...)
			for _, step := range tc.steps {
				w := strings.Fields(step)
				switch {
				case w[0] == "reload":
					set := f.c.Settings()
					set.Monitors = w[1:]
					f.c.Reconfigure(set)
				case w[2] == "checked":
					f.c.Checked(w[0], w[1], true, "")
				default:
					f.c.MonitorResult(w[0], w[1], w[2] == "up", "test")
				}
			}
			if got := f.desired(); got != tc.desired {
				t.Errorf("desired %q, want %q\n%s", got, tc.desired, f.log)
			}
			if got := f.pooledHosts(); got != tc.pooled {
				t.Errorf("pooled %q, want %q", got, tc.pooled)
			}
		})
	}
}
