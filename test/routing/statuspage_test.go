package routinge2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/test/internal/browser"
)

// noConsoleErrors fails the test if the page logged an error or threw.
func noConsoleErrors(t *testing.T, b *browser.Browser) {
	t.Helper()
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}

// The overview page in Chromium: esams DOWN in admin_state turns its
// marker down and moves the arrows of its users (drmrs) off it, without
// a reload; its screenshot is the README's.
func TestStatusPageTrafficctlOverview(t *testing.T) {
	dir := t.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(t, rp, exampleConfig(t))
	testutil.WriteAtomic(t, ap, "")
	s := serve(t, "--routing", rp, "--admin-state", ap)
	b := browser.New(t)
	b.Open(s.url + "/")
	b.WaitFor("#site-esams.state-up")
	if to := b.Attr(`#map .route[data-from="drmrs"]`, "data-to"); to != "esams" {
		t.Fatalf("text/drmrs's arrow goes to %q, want esams (its configured first choice)", to)
	}
	if got := b.Text(`#route-text-drmrs .path`); got != "drmrs → esams → eqiad" {
		t.Errorf("text/drmrs path %q", got)
	}

	testutil.WriteAtomic(t, ap, "# esams maintenance\nsite/esams => DOWN\n")
	b.WaitFor("#site-esams.state-down")
	// The same swap brought the arrows: none goes to esams any more.
	b.WaitFor(`#map[data-cluster="text"]:not(:has(.route[data-to="esams"]))`)
	if to := b.Attr(`#map .route[data-from="drmrs"]`, "data-to"); to != "eqiad" {
		t.Errorf("text/drmrs's arrow goes to %q, want eqiad (its next choice)", to)
	}
	if b.HasClass("#site-drmrs", "state-down") || !b.HasClass("#site-drmrs", "state-up") {
		t.Error("drmrs is not shown up")
	}
	contains(t, "esams's state", b.Text(`#sites tr[data-site="esams"] .by`), "admin_state line 2: site/esams => DOWN")
	contains(t, "the alerts", b.Text("#alerts"), "esams is DOWN (admin_state line 2")
	if got := b.Text(`#route-text-drmrs .path`); got != "drmrs → eqiad" {
		t.Errorf("text/drmrs path %q after esams DOWN", got)
	}
	noConsoleErrors(t, b)
	b.Screenshot("trafficctl-overview")

	// Another cluster's routes, chosen by ?cluster=: upload/drmrs has
	// esams as its only choice, so it goes to the nearest up site.
	b.Open(s.url + "/?cluster=upload")
	b.WaitFor(`#map[data-cluster="upload"]:not(:has(.route[data-to="esams"]))`)
	if to := b.Attr(`#map .route[data-from="drmrs"]`, "data-to"); to == "" || to == "esams" {
		t.Errorf("upload/drmrs's arrow goes to %q", to)
	}
	contains(t, "upload/drmrs", b.Text(`#route-upload-drmrs .path`), "drmrs → ")
	noConsoleErrors(t, b)
}

// Without JavaScript the page is complete: the map, its state and every
// route are in the served HTML.
func TestOverviewWithoutJavaScript(t *testing.T) {
	dir := t.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(t, rp, exampleConfig(t))
	testutil.WriteAtomic(t, ap, "site/esams => DOWN\n")
	s := serve(t, "--routing", rp, "--admin-state", ap)
	b := browser.New(t, browser.WithoutJavaScript())
	b.Open(s.url + "/")
	b.WaitFor("#site-esams.state-down")
	b.WaitFor("#site-eqiad.state-up")
	if got := b.Text("#refresh-state"); got != "refreshes every 5 s" {
		t.Errorf("refresh state %q: the script ran, or <noscript> was not shown", got)
	}
	if to := b.Attr(`#map .route[data-from="drmrs"]`, "data-to"); to != "eqiad" {
		t.Errorf("text/drmrs's arrow goes to %q", to)
	}
	for _, c := range []struct{ row, want string }{
		{"#route-text-ulsfo .path", "ulsfo → codfw → eqiad"},
		{"#route-upload-magru .path", "magru → eqiad"},
		{"#route-text-esams .status", "ok"},
		{`#routes tr[data-site="esams"] th`, "esams DOWN"},
		{`#sites tr[data-site="esams"] .by`, "admin_state line 1: site/esams => DOWN"},
	} {
		if got := b.Text(c.row); got != c.want {
			t.Errorf("%s: %q, want %q", c.row, got, c.want)
		}
	}
	contains(t, "the apps of text/eqsin", b.Text("#route-text-eqsin .apps"), "restbase: codfw")
}

// With etcd, a site object DOWN names its key, and the audit log's
// changes (who, when, what) are listed.
func TestOverviewWithEtcd(t *testing.T) {
	e := testetcd.Start(t)
	c := e.Client(t)
	dir := t.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(t, rp, exampleConfig(t))
	testutil.WriteAtomic(t, ap, "")
	s := serve(t, "--routing", rp, "--admin-state", ap, "--etcd", e.Endpoint())
	b := browser.New(t)
	b.Open(s.url + "/")
	b.WaitFor("#site-esams.state-up")
	b.WaitFor("#etcd #audit-empty")

	// As `confctl set` writes it: the object and its audit record at once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec := etcdstore.AuditRecord{Who: "alice", When: time.Now(), Command: "set state=down", Selector: "name=esams"}
	if _, err := etcdstore.Commit(ctx, c, conftool.NewLayout(conftool.DefaultPrefix),
		[]etcdstore.Change{{Key: kEsams, New: []byte(`{"state":"down"}`)}}, rec); err != nil {
		t.Fatal(err)
	}
	b.WaitFor("#site-esams.state-down")
	b.WaitFor(`#map:not(:has(.route[data-to="esams"]))`)
	contains(t, "esams's state", b.Text(`#sites tr[data-site="esams"] .by`), "etcd "+kEsams+"@")
	b.WaitFor("#audit tbody tr")
	contains(t, "the audit log", b.Text("#audit tbody tr"), "alice", "set state=down", "name=esams", kEsams, `{"state":"down"}`)
	if !strings.Contains(b.Text("#etcd"), "connected") {
		t.Errorf("etcd section: %q", b.Text("#etcd"))
	}
	noConsoleErrors(t, b)
}
