package instrumentation

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/coordinator"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/pool"
	"github.com/prometheus/client_golang/prometheus"
)

type fakeState struct {
	pools []*coordinator.Coordinator
	ann   bgp.Announcer
	ipvs  []ipvs.ServiceStatus // nil: one IPv4 service
}

func (f *fakeState) Pools() []coordinator.Snapshot {
	var out []coordinator.Snapshot
	for _, c := range f.pools {
		out = append(out, c.Snapshot())
	}
	return out
}
func (f *fakeState) Announcer() bgp.Announcer { return f.ann }
func (f *fakeState) IPVSStatus(context.Context) ([]ipvs.ServiceStatus, error) {
	if f.ipvs != nil {
		return f.ipvs, nil
	}
	return []ipvs.ServiceStatus{{Service: ipvs.Service{Key: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 443}, Scheduler: "wlc"},
		Destinations: []ipvs.DestinationStatus{{Destination: ipvs.Destination{Addr: netip.MustParseAddr("10.64.0.1"), Port: 443, Weight: 10, Forward: ipvs.DirectRoute}, ActiveConns: 5, InactiveConns: 7}}}}, nil
}

type fakeAnn struct{}

func (fakeAnn) Start(context.Context) error                  { return nil }
func (fakeAnn) SetRoutes(context.Context, []bgp.Route) error { return nil }
func (fakeAnn) Routes() []bgp.Route {
	return []bgp.Route{{Prefix: netip.MustParsePrefix("10.2.2.1/32"), MED: 100}}
}
func (fakeAnn) Peers() []bgp.PeerStatus {
	return []bgp.PeerStatus{{Address: netip.MustParseAddr("10.0.0.1"), State: "established", Established: true}}
}
func (fakeAnn) Stop(context.Context) error { return nil }

func newCoord(name string, threshold float64, hosts ...string) *coordinator.Coordinator {
	c := coordinator.New(coordinator.Settings{Name: name, DepoolThreshold: threshold, Monitors: []string{"ProxyFetch"}}, slog.New(slog.DiscardHandler), nil, nil)
	p := pool.Pool{}
	for _, h := range hosts {
		p[h] = pool.Server{Enabled: true, Weight: 10}
	}
	c.UpdatePool(p)
	for i, h := range hosts {
		c.SetResolved(h, netip.AddrFrom4([4]byte{10, 64, 0, byte(i + 1)}))
	}
	return c
}

func get(t *testing.T, srv *httptest.Server, path string, js bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if js {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAPI(t *testing.T) {
	text := newCoord("text_443", 0.5, "mw1", "mw2", "mw3")
	upload := newCoord("upload_443", 0.5, "cp1")
	text.MonitorResult("mw2", "ProxyFetch", false, "x")
	st := &fakeState{pools: []*coordinator.Coordinator{text, upload}}
	srv := httptest.NewServer(Handler(st, prometheus.NewRegistry()))
	defer srv.Close()
	tests := []struct {
		path     string
		js       bool
		wantCode int
		want     string
	}{
		{"/pools", false, 200, "text_443\nupload_443\n"},
		{"/pools/", true, 200, `["text_443","upload_443"]` + "\n"},
		{"/pools/text_443", false, 200, "mw1:\tenabled/up/pooled\nmw2:\tenabled/down/not pooled\nmw3:\tenabled/up/pooled\n"},
		{"/pools/text_443/mw2", false, 200, "enabled/down/not pooled\n"},
		{"/pools/text_443/mw1", true, 200, `{"pooled":true,"weight":10,"up":true,"enabled":true,"address":"10.64.0.1"}` + "\n"},
		{"/pools/text_443/nope", true, 404, `{"error":"The desired url was not found"}` + "\n"},
		{"/pools/nope", false, 404, "The desired url was not found"},
		{"/whatever", true, 404, `{"error":"The desired url was not found"}` + "\n"},
		{"/alerts", false, 200, "WARNING - Pool upload_443 is too small to allow depooling. "},
		{"/bgp", false, 200, "BGP disabled\n"},
		{"/ipvs", false, 200, "TCP 10.2.2.1:443 wlc\n  -> 10.64.0.1:443 dr 10 5 7\n"},
	}
	for _, tc := range tests {
		code, body := get(t, srv, tc.path, tc.js)
		if code != tc.wantCode || body != tc.want {
			t.Errorf("GET %s (json %v) = %d %q, want %d %q", tc.path, tc.js, code, body, tc.wantCode, tc.want)
		}
	}
	var pools map[string]ServerState
	_, body := get(t, srv, "/pools/text_443", true)
	if err := json.Unmarshal([]byte(body), &pools); err != nil || len(pools) != 3 || pools["mw2"].Up || pools["mw2"].Pooled {
		t.Errorf("pool JSON %s: %v", body, err)
	}
	st.ann = fakeAnn{}
	if _, body := get(t, srv, "/bgp", true); !strings.Contains(body, `"enabled":true`) || !strings.Contains(body, `"prefix":"10.2.2.1/32","med":100`) ||
		!strings.Contains(body, `"state":"established"`) {
		t.Errorf("/bgp: %s", body)
	}
}

func TestAlerts(t *testing.T) {
	a := newCoord("a", 0.5, "h1", "h2", "h3", "h4")
	if got := Alerts([]coordinator.Snapshot{a.Snapshot()}); got.Status != "ok" || got.Msg != "All pools are healthy" {
		t.Errorf("%+v", got)
	}
	for _, h := range []string{"h1", "h2", "h3"} {
		a.MonitorResult(h, "ProxyFetch", false, "x")
	}
	if got := Alerts([]coordinator.Snapshot{a.Snapshot()}); got.Status != "critical" || got.Msg != "a: Servers h3 are marked down but pooled" {
		t.Errorf("%+v", got)
	}
}

// A service whose pooled servers all have weight 0 takes no new connection:
// /alerts says so although the depool threshold holds.
func TestAlertsNoPooledWeight(t *testing.T) {
	c := newCoord("w", 0.5)
	c.UpdatePool(pool.Pool{"h1": {Enabled: true, Weight: 0}, "h2": {Enabled: true, Weight: 0}})
	c.SetResolved("h1", netip.MustParseAddr("10.64.0.1"))
	c.SetResolved("h2", netip.MustParseAddr("10.64.0.2"))
	if got := Alerts([]coordinator.Snapshot{c.Snapshot()}); got.Status != "critical" || got.Msg != "w: no pooled server has a weight above 0" {
		t.Errorf("weight 0: %+v", got)
	}
	c.UpdatePool(pool.Pool{"h1": {Enabled: true, Weight: 0}, "h2": {Enabled: true, Weight: 5}})
	if got := Alerts([]coordinator.Snapshot{c.Snapshot()}); got.Status != "ok" {
		t.Errorf("weight 5: %+v", got)
	}
}

// sourceState is fakeState with pool source problems, as the daemon.
type sourceState struct {
	fakeState
	sources map[string]string
}

func (c *sourceState) PoolSourceAlerts() map[string]string { return c.sources }

// A pool source's problem (etcd unreachable, ignored values, no nodes yet)
// is a warning naming the service; an empty pool it explains is not also
// reported as too small; pooled-but-down elsewhere is still critical.
func TestAlertsPoolSource(t *testing.T) {
	etcd := newCoord("etcd_80", 0.5)
	kept := newCoord("kept_80", 0.5, "mw1", "mw2", "mw3")
	text := newCoord("text_443", 0.5, "mw1", "mw2", "mw3")
	st := &sourceState{fakeState: fakeState{pools: []*coordinator.Coordinator{etcd, kept, text}}, sources: map[string]string{
		"etcd_80": "etcd source etcd://127.0.0.1:2379/conftool/v1/pools/eqiad/appserver/apache2/ has no nodes; the service is left as it is in IPVS",
		"kept_80": "etcd source etcds://conf1001:2379/conftool/v1/pools/eqiad/appserver/apache2/ unreachable for 1m5s; keeping the last pool (revision 42)",
	}}
	srv := httptest.NewServer(Handler(st, prometheus.NewRegistry()))
	defer srv.Close()
	want := "Pool etcd_80: etcd source etcd://127.0.0.1:2379/conftool/v1/pools/eqiad/appserver/apache2/ has no nodes; the service is left as it is in IPVS. " +
		"Pool kept_80: etcd source etcds://conf1001:2379/conftool/v1/pools/eqiad/appserver/apache2/ unreachable for 1m5s; keeping the last pool (revision 42). "
	if _, body := get(t, srv, "/alerts", false); body != "WARNING - "+want {
		t.Errorf("/alerts = %q, want %q", body, "WARNING - "+want)
	}
	var a Alert
	if _, body := get(t, srv, "/alerts", true); json.Unmarshal([]byte(body), &a) != nil || a.Status != "warning" || a.Msg != want {
		t.Errorf("/alerts JSON = %s", body)
	}
	for _, h := range []string{"mw1", "mw2"} {
		text.MonitorResult(h, "ProxyFetch", false, "x")
	}
	if _, body := get(t, srv, "/alerts", false); !strings.HasPrefix(body, "CRITICAL - text_443: Servers mw2 are marked down but pooled") {
		t.Errorf("/alerts = %q", body)
	}
}

// Disabled servers kept pooled by the depool threshold are a warning.
func TestAlertsHeld(t *testing.T) {
	c := newCoord("w", 0.5, "h1", "h2", "h3", "h4")
	c.UpdatePool(pool.Pool{"h1": {Weight: 10}, "h2": {Weight: 10}, "h3": {Weight: 10}, "h4": {Weight: 10}})
	got := Alerts([]coordinator.Snapshot{c.Snapshot()})
	if got.Status != "warning" || got.Msg != "Pool w: disabled servers h1, h2 kept pooled by the depool threshold. " {
		t.Errorf("%+v", got)
	}
}

// refusalState is fakeState with refused pool documents, as the daemon.
type refusalState struct {
	fakeState
	refused map[string]string
}

func (c *refusalState) PoolSourceRefusals() map[string]string { return c.refused }

// A refused pool document is critical, naming the service and the refusal;
// an empty pool it explains (nothing good read yet) is not also too small;
// removed servers kept by the threshold are a warning, as /pools' JSON says.
func TestAlertsRefusedAndRemoved(t *testing.T) {
	empty := newCoord("empty_80", 0.5)
	web := newCoord("web_80", 0.5, "mw1", "mw2", "mw3", "mw4")
	web.MonitorResult("mw3", "ProxyFetch", false, "x")
	web.MonitorResult("mw4", "ProxyFetch", false, "x")
	web.UpdatePool(pool.Pool{"mw3": {Enabled: true, Weight: 10}, "mw4": {Enabled: true, Weight: 10}})
	st := &refusalState{fakeState: fakeState{pools: []*coordinator.Coordinator{empty, web}}}
	srv := httptest.NewServer(Handler(st, prometheus.NewRegistry()))
	defer srv.Close()
	if _, body := get(t, srv, "/alerts", false); body != "WARNING - Pool empty_80 is too small to allow depooling. "+
		"Pool web_80: removed servers mw1, mw2 kept pooled by the depool threshold. " {
		t.Errorf("/alerts = %q", body)
	}
	if _, body := get(t, srv, "/pools/web_80/mw2", true); strings.TrimSpace(body) != `{"pooled":true,"weight":10,"up":true,"enabled":true,"address":"10.64.0.2","removed":true}` {
		t.Errorf("/pools/web_80/mw2 = %s", body)
	}
	// The refusal arrives: critical.
	st.refused = map[string]string{
		"empty_80": "pool source file:///p refused, no pool from it yet: no server in it (an empty document, or only blank and comment lines)",
	}
	want := "empty_80: pool source file:///p refused, no pool from it yet: no server in it (an empty document, or only blank and comment lines)"
	if _, body := get(t, srv, "/alerts", false); body != "CRITICAL - "+want {
		t.Errorf("/alerts = %q, want %q", body, "CRITICAL - "+want)
	}
}

// /ipvs text writes addresses as ipvsadm does: IPv6 in brackets.
func TestIPVSText(t *testing.T) {
	st := &fakeState{ipvs: []ipvs.ServiceStatus{
		{Service: ipvs.Service{Key: ipvs.ServiceKey{Protocol: ipvs.UDP, Addr: netip.MustParseAddr("2001:db8::53"), Port: 18053}, Scheduler: "mh"},
			Destinations: []ipvs.DestinationStatus{{Destination: ipvs.Destination{Addr: netip.MustParseAddr("2001:db8::1:5"), Port: 18053, Weight: 1, Forward: ipvs.Tunnel}, InactiveConns: 3}}},
		{Service: ipvs.Service{Key: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 80}, Scheduler: "wlc"},
			Destinations: []ipvs.DestinationStatus{{Destination: ipvs.Destination{Addr: netip.MustParseAddr("10.64.0.1"), Port: 80, Weight: 10, Forward: ipvs.DirectRoute}}}},
	}}
	srv := httptest.NewServer(Handler(st, prometheus.NewRegistry()))
	defer srv.Close()
	want := "UDP [2001:db8::53]:18053 mh\n  -> [2001:db8::1:5]:18053 tun 1 0 3\nTCP 10.2.2.1:80 wlc\n  -> 10.64.0.1:80 dr 10 0 0\n"
	if _, body := get(t, srv, "/ipvs", false); body != want {
		t.Errorf("/ipvs = %q, want %q", body, want)
	}
}

// A manual depool is a warning of its own, naming who and why, and shows
// in /pools' text and JSON.
func TestManualDepoolShown(t *testing.T) {
	m := &coordinator.Manual{User: "alice", Reason: "disk dying"}
	srvs := []coordinator.Server{{Host: "mw01", Enabled: true, Up: true, Pooled: true, Weight: 10, Ready: true},
		{Host: "mw02", Up: true, Weight: 10, Ready: true, Manual: m}, {Host: "mw03", Enabled: true, Up: true, Pooled: true, Weight: 10, Ready: true}}
	a := Alerts([]coordinator.Snapshot{{Name: "text_443", Servers: srvs, PooledWeight: 20}})
	if a.Status != "warning" || !strings.Contains(a.Msg, "Pool text_443: server mw02 manually depooled by alice: disk dying. ") {
		t.Errorf("alert %+v", a)
	}
	if got := textLine(srvs[1]); got != "disabled/up/not pooled (manually depooled by alice: disk dying)" {
		t.Errorf("text %q", got)
	}
	if got := stateOf(srvs[1]).Manual; got != "manually depooled by alice: disk dying" {
		t.Errorf("json manual %q", got)
	}
}

type driftFake struct {
	fakeState
	rep ipvs.DriftReport
}

func (d *driftFake) Drift() ipvs.DriftReport { return d.rep }

// /ipvs/drift and lvsd_ipvs_drift_repairs_total report the repairs, with
// a series per kind from the start.
func TestDriftServed(t *testing.T) {
	svc := ipvs.Service{Key: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 80}, Scheduler: "wlc"}
	dst := ipvs.Destination{Addr: netip.MustParseAddr("10.64.0.5"), Port: 80, Weight: 10, Forward: ipvs.DirectRoute}
	st := &driftFake{rep: ipvs.DriftReport{Total: map[ipvs.OpKind]uint64{ipvs.DeleteDest: 2},
		Recent: []ipvs.DriftRepair{{Undone: ipvs.Op{Kind: ipvs.DeleteDest, Service: svc, Destination: dst},
			Restored: ipvs.Op{Kind: ipvs.AddDest, Service: svc, Destination: dst}}}}}
	reg := prometheus.NewRegistry()
	if err := RegisterDrift(reg, st.Drift); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(st, reg))
	defer srv.Close()
	get := func(path string) string {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get("/ipvs/drift"); !strings.Contains(got, `undone "-d -t 10.2.2.1:80 -r 10.64.0.5:80", restored by "-a -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 10"`) ||
		!strings.HasPrefix(got, "IPVS drift repairs (changes made outside lvsd, undone): 2 (-d: 2)\n") {
		t.Errorf("/ipvs/drift:\n%s", got)
	}
	m := get("/metrics")
	for _, want := range []string{`lvsd_ipvs_drift_repairs_total{op="-d"} 2`, `lvsd_ipvs_drift_repairs_total{op="-a"} 0`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
