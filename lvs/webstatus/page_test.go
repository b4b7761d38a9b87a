package webstatus

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/coordinator"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/status"
	"github.com/prometheus/client_golang/prometheus"
)

// state is an instrumentation.State of fixed answers.
type state struct {
	pools   []coordinator.Snapshot
	kernel  []ipvs.ServiceStatus
	err     error
	speaker bgp.Announcer
}

func (s *state) Pools() []coordinator.Snapshot { return s.pools }
func (s *state) Announcer() bgp.Announcer      { return s.speaker }
func (s *state) IPVSStatus(context.Context) ([]ipvs.ServiceStatus, error) {
	return s.kernel, s.err
}

// speaker is a bgp.Announcer that only reports.
type speaker struct {
	bgp.Announcer
	peers  []bgp.PeerStatus
	routes []bgp.Route
}

func (s speaker) Peers() []bgp.PeerStatus { return s.peers }
func (s speaker) Routes() []bgp.Route     { return s.routes }

func get(t *testing.T, h http.Handler, method, target, accept string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// Browsers get the page at /; every other client and path gets the API's
// answers as before, / included (a 404).
func TestHandlerRoutes(t *testing.T) {
	c := coord(t, 0.5, "mw01", "mw02")
	h := Handler(&state{pools: []coordinator.Snapshot{c.Snapshot()}}, prometheus.NewRegistry())
	tests := []struct {
		method, path, accept string
		code                 int
		contentType, has     string
	}{
		{"GET", "/", browserAccept, 200, "text/html; charset=utf-8", `data-service="web" data-host="mw01"`},
		{"GET", "/?fragment=1", "text/html", 200, "text/html; charset=utf-8", `<main id="status-main"`},
		{"HEAD", "/", browserAccept, 200, "text/html; charset=utf-8", ""},
		{"GET", "/", "", 404, "text/plain; charset=utf-8", "The desired url was not found"},
		{"GET", "/", "*/*", 404, "text/plain; charset=utf-8", "The desired url was not found"},
		{"GET", "/", "application/json", 404, "application/json", `{"error":"The desired url was not found"}`},
		{"GET", "/", "text/html, application/json", 404, "application/json", `{"error":"The desired url was not found"}`},
		{"POST", "/", browserAccept, 405, "text/plain; charset=utf-8", "not allowed"},
		{"POST", "/", "", 405, "text/plain; charset=utf-8", "method not allowed"},
		{"GET", "/pools", browserAccept, 200, "text/plain; charset=utf-8", "web\n"},
		{"GET", "/alerts", browserAccept, 200, "text/plain; charset=utf-8", "OK - All pools are healthy"},
		{"GET", "/static/status/status.css", "", 200, "text/css; charset=utf-8", "state-up"},
		{"GET", "/static/status/nope.js", "", 404, "", ""},
	}
	for _, tc := range tests {
		rec := get(t, h, tc.method, tc.path, tc.accept)
		if rec.Code != tc.code || (tc.contentType != "" && rec.Header().Get("Content-Type") != tc.contentType) ||
			!strings.Contains(rec.Body.String(), tc.has) {
			t.Errorf("%s %s (Accept %q) = %d %s\n%s", tc.method, tc.path, tc.accept, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
}

// Names from the configuration and the pool sources cannot inject markup.
func TestPageEscapesHostileNames(t *testing.T) {
	const hostile = `mw"><script>alert(1)</script><img src=x onerror=alert(2)>`
	c := coord(t, 0.5, hostile, "mw02")
	c.Checked(hostile, "ProxyFetch", false, `</td><script>alert(3)</script>`)
	snap := c.Snapshot()
	snap.Name = `web"><script>alert(4)</script>`
	h := Handler(&state{pools: []coordinator.Snapshot{snap}}, prometheus.NewRegistry())
	body := get(t, h, "GET", "/", browserAccept).Body.String()
	for _, bad := range []string{"<script>alert", "<img src=x", "</td><script>"} {
		if strings.Contains(body, bad) {
			t.Errorf("page has %q unescaped:\n%s", bad, body)
		}
	}
	for _, want := range []string{
		`data-host="mw&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"`,
		`<td class="mono host" title="enabled/up/pooled">mw&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;</td>`,
		`&lt;/td&gt;&lt;script&gt;alert(3)&lt;/script&gt;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	if n := strings.Count(body, "<script"); n != 1 {
		t.Errorf("%d script tags, want the layout's one", n)
	}
}

// The page shows each part: alerts on top, the service, headroom, checks
// and their last error, IPVS counters with the anomaly flag, BGP.
func TestPageContent(t *testing.T) {
	c := coord(t, 0.5, "mw01", "mw02", "mw03")
	c.Checked("mw01", "ProxyFetch", false, "Connection refused")
	c.MonitorResult("mw01", "ProxyFetch", false, "Connection refused")
	dest := func(i int, act, inact uint32) ipvs.DestinationStatus {
		return ipvs.DestinationStatus{Destination: ipvs.Destination{Addr: addr(i), Port: 80, Weight: 10}, ActiveConns: act, InactiveConns: inact}
	}
	kernel := []ipvs.ServiceStatus{{Service: ipvs.Service{Key: vip, Scheduler: "wlc"}, Destinations: []ipvs.DestinationStatus{dest(1, 1, 60), dest(2, 90, 40), dest(3, 100, 50)}}}
	ann := speaker{peers: []bgp.PeerStatus{{Address: netip.MustParseAddr("192.0.2.1"), State: "established", Established: true, PeerASN: 64600, Advertised: 1}},
		routes: []bgp.Route{{Prefix: netip.MustParsePrefix("10.2.2.1/32"), MED: 100}}}
	p, err := Render(context.Background(), &state{pools: []coordinator.Snapshot{c.Snapshot()}, kernel: kernel, speaker: ann}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Alerts) != 1 || p.Alerts[0].Level != "ok" || p.Alerts[0].Text != "All pools are healthy" {
		t.Errorf("alerts %+v", p.Alerts)
	}
	body := string(p.Body)
	for _, want := range []string{
		`<code class="vip">TCP 10.2.2.1:80</code> <span class="muted scheduler">wlc</span>`,
		`data-headroom="0">no more may be depooled: the next server down stays pooled</span>`,
		`<tr class="server state-down" data-service="web" data-host="mw01" data-enabled="true" data-up="false" data-pooled="false">`,
		`<tr class="server state-up" data-service="web" data-host="mw02" data-enabled="true" data-up="true" data-pooled="true">`,
		`<span class="badge state-down">ProxyFetch down</span>`,
		`: Connection refused</div>`,
		`<td class="num">1</td><td class="num">60 <span class="badge state-degraded anomaly">anomaly</span></td>`,
		`<div>` + status.SuspiciousNote + `</div>`,
		`<tr class="state-up" data-peer="192.0.2.1"><td class="mono">192.0.2.1</td><td>64600</td><td>established</td>`,
		`<tr data-prefix="10.2.2.1/32"><td class="mono">10.2.2.1/32</td><td class="num">100</td></tr>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s\n%s", want, body)
		}
	}
	p, _ = Render(context.Background(), &state{pools: []coordinator.Snapshot{c.Snapshot()}, err: errors.New("netlink: permission denied")}, time.Time{})
	if len(p.Alerts) != 2 || p.Alerts[1].Text != "IPVS table unavailable: netlink: permission denied" {
		t.Errorf("alerts with IPVS unreadable: %+v", p.Alerts)
	}
	if !strings.Contains(string(p.Body), "<p class=\"muted\">BGP is off.</p>") {
		t.Errorf("BGP off not said")
	}
}
