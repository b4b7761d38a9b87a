package webstatus

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/lvs/coordinator"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/pool"
	"github.com/geotraffic/geotraffic/lvs/status"
)

var vip = ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 80}

// coord is a real coordinator of hosts (all enabled, resolved to
// 10.64.0.1... in order, weight 10), so the view shows the threshold rule's
// own numbers.
func coord(t *testing.T, threshold float64, hosts ...string) *coordinator.Coordinator {
	t.Helper()
	c := coordinator.New(coordinator.Settings{Name: "web", Port: 80, Forward: ipvs.DirectRoute, DepoolThreshold: threshold,
		Monitors: []string{"ProxyFetch"}, Service: ipvs.Service{Key: vip, Scheduler: "wlc"}},
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil, func() {})
	p := pool.Pool{}
	for _, h := range hosts {
		p[h] = pool.Server{Enabled: true, Weight: 10}
	}
	c.UpdatePool(p)
	for i, h := range hosts {
		c.SetResolved(h, addr(i))
	}
	return c
}

func addr(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 64, 0, byte(i + 1)}) }

func view(pools []coordinator.Snapshot, kernel ...ipvs.ServiceStatus) View {
	return Build(instrumentation.Alerts(pools), pools, kernel, nil, nil)
}

func TestHeadroomFollowsTheThreshold(t *testing.T) {
	hosts := []string{"mw01", "mw02", "mw03", "mw04", "mw05"}
	c := coord(t, 0.5, hosts...)
	want := []string{ // 5 servers, 2.5 must stay up
		"2 more may be depooled",
		"1 more may be depooled",
		"no more may be depooled: the next server down stays pooled",
		"no more may be depooled: the next server down stays pooled",
	}
	for i, w := range want {
		s := view([]coordinator.Snapshot{c.Snapshot()}).Services[0]
		if s.HeadroomText != w || s.Headroom != max(0, 2-i) {
			t.Errorf("%d down: %d %q, want %q", i, s.Headroom, s.HeadroomText, w)
		}
		c.MonitorResult(hosts[i], "ProxyFetch", false, "Connection refused")
	}
	if s := view([]coordinator.Snapshot{coord(t, 0, "a", "b").Snapshot()}).Services[0]; s.HeadroomText != "all 2 may be depooled (no threshold)" {
		t.Errorf("threshold 0: %q", s.HeadroomText)
	}
}

func TestServerRows(t *testing.T) {
	c := coord(t, 0.5, "mw01", "mw02", "mw03", "mw04")
	c.MonitorResult("mw01", "ProxyFetch", false, "Connection refused")
	c.Checked("mw01", "ProxyFetch", false, "Connection refused")
	c.MonitorResult("mw02", "ProxyFetch", false, "timeout")
	c.MonitorResult("mw03", "ProxyFetch", false, "timeout") // stays pooled: 2 of 4 must stay up
	v := view([]coordinator.Snapshot{c.Snapshot()})
	s := v.Services[0]
	if s.VIP != "TCP 10.2.2.1:80" || s.Scheduler != "wlc" || v.Alert.Status != "critical" {
		t.Errorf("service %s %s, alert %+v", s.VIP, s.Scheduler, v.Alert)
	}
	got := []string{}
	for _, r := range s.Servers {
		got = append(got, fmt.Sprintf("%s %s %s pooled=%v %v", r.Host, r.Address, r.State, r.Pooled, r.Notes))
	}
	want := []string{
		"mw01 10.64.0.1 down pooled=false []",
		"mw02 10.64.0.2 down pooled=false []",
		"mw03 10.64.0.3 down pooled=true [down but pooled: the depool threshold keeps it]",
		"mw04 10.64.0.4 up pooled=true []",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ch := s.Servers[0].Checks; len(ch) != 1 || ch[0].Up || ch[0].Error != "Connection refused" {
		t.Errorf("mw01 checks %+v", ch)
	}
}

// The IPVS counters join the rows by address, with lvsd status's anomaly
// flag; destinations no server has are strays; a pooled server IPVS lacks
// is flagged.
func TestIPVSCounters(t *testing.T) {
	c := coord(t, 0.5, "mw01", "mw02", "mw03", "mw04")
	dest := func(i int, act, inact uint32) ipvs.DestinationStatus {
		return ipvs.DestinationStatus{Destination: ipvs.Destination{Addr: addr(i), Port: 80, Weight: 10}, ActiveConns: act, InactiveConns: inact}
	}
	// mw02 has few active connections but many inactive ones: refusing
	// connections (lvsd status's heuristic); mw04 is missing.
	kernel := ipvs.ServiceStatus{Service: ipvs.Service{Key: vip, Scheduler: "wlc"},
		Destinations: []ipvs.DestinationStatus{dest(0, 100, 50), dest(1, 1, 60), dest(2, 90, 40), dest(9, 3, 4)}}
	s := view([]coordinator.Snapshot{c.Snapshot()}, kernel).Services[0]
	if r := s.Servers[0]; r.IPVS == nil || r.IPVS.Active != 100 || r.IPVS.Inactive != 50 || r.IPVS.Suspicious || len(r.Notes) != 0 {
		t.Errorf("mw01: %+v %+v", r.IPVS, r.Notes)
	}
	if r := s.Servers[1]; r.IPVS == nil || !r.IPVS.Suspicious || len(r.Notes) != 1 || r.Notes[0] != status.SuspiciousNote {
		t.Errorf("mw02 not flagged: %+v %v", r.IPVS, r.Notes)
	}
	if r := s.Servers[3]; r.IPVS != nil || fmt.Sprint(r.Notes) != "[pooled but missing from IPVS]" {
		t.Errorf("mw04: %+v %v", r.IPVS, r.Notes)
	}
	if len(s.Strays) != 1 || s.Strays[0].Address != "10.64.0.10:80" {
		t.Errorf("strays %+v", s.Strays)
	}
	if !s.InIPVS {
		t.Error("service not in IPVS")
	}
	// The table lacks the service: said once, no per-server flag.
	s = view([]coordinator.Snapshot{c.Snapshot()}).Services[0]
	if s.InIPVS || len(s.Servers[3].Notes) != 0 {
		t.Errorf("empty table: in IPVS %v, notes %v", s.InIPVS, s.Servers[3].Notes)
	}
	// The table could not be read: no flag at all, the error shown.
	v := Build(instrumentation.Alert{}, []coordinator.Snapshot{c.Snapshot()}, nil, errors.New("netlink: permission denied"), nil)
	if !v.Services[0].InIPVS || v.IPVSErr != "netlink: permission denied" {
		t.Errorf("unreadable table: in IPVS %v, error %q", v.Services[0].InIPVS, v.IPVSErr)
	}
}

// A manually depooled server's row says who and why, and the alert on top
// is the warning.
func TestManualDepoolRow(t *testing.T) {
	c := coord(t, 0.5, "mw01", "mw02", "mw03")
	if err := c.Depool("mw02", coordinator.Manual{User: "alice", Reason: "disk dying"}); err != nil {
		t.Fatal(err)
	}
	v := view([]coordinator.Snapshot{c.Snapshot()})
	r := v.Services[0].Servers[1]
	if r.State != "degraded" || fmt.Sprint(r.Notes) != "[manually depooled by alice: disk dying]" {
		t.Errorf("mw02: %s %v", r.State, r.Notes)
	}
	if v.Alert.Status != "warning" || !strings.Contains(v.Alert.Msg, "server mw02 manually depooled by alice: disk dying") {
		t.Errorf("alert %+v", v.Alert)
	}
}
