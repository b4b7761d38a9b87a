package lvsde2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/test/internal/browser"
)

// row selects a server's row on the status page.
func row(svc, host string) string {
	return fmt.Sprintf(`tr.server[data-service=%q][data-host=%q]`, svc, host)
}

// The status page at / in Chromium: the services with their servers, the
// headroom, BGP and the alert; a backend that dies shows depooled without a
// reload; no console errors; and without JavaScript the page is complete.
func TestStatusPageLVSD(t *testing.T) {
	peerPort, localPort := testutil.FreePort(t, "127.0.0.1"), testutil.FreePort(t, "127.0.0.1")
	// BGP towards a peer that never answers: sessions and prefixes show.
	e := startEnv(t, "bgp = yes", "bgp-local-asn = 4200000001", "bgp-peer-address = 127.0.0.1", "bgp-peer-port = "+peerPort,
		"bgp-local-port = "+localPort, `bgp-local-ips = ["127.0.0.1"]`, "bgp-nexthop-ipv4 = 127.0.0.1", "bgp-med = 100")
	e.waitFor("web pooled", func() bool {
		_, body := e.get("/pools/web", false)
		return body == "127.0.0.2:\tenabled/up/pooled\n127.0.0.3:\tenabled/up/pooled\n127.0.0.4:\tenabled/up/pooled\n"
	})
	// Clients that do not ask for HTML keep the API's answer at /.
	if code, body := e.get("/", false); code != 404 || body != "The desired url was not found" {
		t.Errorf("/ without Accept: text/html = %d %q", code, body)
	}

	b := browser.New(t)
	b.Open(e.api + "/")
	for _, h := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		b.WaitFor(row("web", h) + `.state-up[data-pooled="true"]`)
	}
	b.WaitFor(row("web_json", "127.0.0.3") + `[data-pooled="true"]`)
	if got := b.Text(row("web", "127.0.0.2") + " td.host"); got != "127.0.0.2" {
		t.Errorf("host cell %q", got)
	}
	if got := b.Text(`section[data-service="web"] .vip`); got != "TCP 10.2.2.1:"+e.port {
		t.Errorf("VIP %q", got)
	}
	if got := b.Text(`section[data-service="web"] [data-headroom]`); got != "1 more may be depooled" {
		t.Errorf("headroom %q", got)
	}
	if got := b.Text(row("web", "127.0.0.2") + ` .check[data-monitor="ProxyFetch"] .badge`); got != "ProxyFetch up" {
		t.Errorf("monitor %q", got)
	}
	b.WaitFor(`#bgp-routes tr[data-prefix="10.2.2.1/32"]`)
	b.WaitFor(`#bgp-peers tr[data-peer="127.0.0.1"]`)
	if got := b.Attr(".alert", "data-level"); got != "ok" {
		t.Errorf("alert level %q: %s", got, b.Text(".alerts"))
	}

	// A backend dies: its row turns down and depooled, with the monitor's
	// error, and the headroom is spent, all without a reload.
	e.backends["127.0.0.3"].kill()
	b.WaitFor(row("web", "127.0.0.3") + `.state-down[data-pooled="false"]`)
	b.WaitFor(`section[data-service="web"] [data-headroom="0"]`)
	b.WaitFor(row("web", "127.0.0.3") + ` .last-error`)
	if got := b.Text(row("web", "127.0.0.3") + ` .last-error`); !strings.Contains(got, "Fetch failed (http://web.example/)") &&
		!strings.Contains(got, "onnection refused") {
		t.Errorf("last error %q", got)
	}
	b.WaitFor(row("web_json", "127.0.0.3") + `.state-down`)
	if errs := b.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("console errors: %q", errs)
	}
	b.Screenshot("lvsd-status")

	// Without JavaScript the page is complete as served.
	nojs := browser.New(t, browser.WithoutJavaScript())
	nojs.Open(e.api + "/")
	for _, sel := range []string{row("web", "127.0.0.2") + ".state-up", row("web", "127.0.0.3") + `.state-down[data-pooled="false"]`,
		row("web_json", "127.0.0.2"), `#bgp-routes tr[data-prefix="10.2.2.2/32"]`, ".alert", "#rendered-at"} {
		nojs.WaitFor(sel)
	}
	if got := nojs.Text("#refresh-state"); got != "refreshes every 5 s" {
		t.Errorf("without JavaScript the refresh note is %q", got)
	}
	if errs := nojs.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("console errors without JavaScript: %q", errs)
	}
}
