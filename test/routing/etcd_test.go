package routinge2e

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/routing"
)

const (
	kSites     = "/conftool/v1/sites/"
	kEsams     = kSites + "esams"
	kUlsfo     = "/conftool/v1/routes/text/ulsfo"
	kCodfwLoop = "/conftool/v1/routes/text/codfw"
)

func etcdPut(t *testing.T, c *clientv3.Client, k, v string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Put(ctx, k, v); err != nil {
		t.Fatal(err)
	}
}

func etcdDelete(t *testing.T, c *clientv3.Client, k string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
}

// allRoutes reads /routes and its generation header.
func allRoutes(t *testing.T, s *server) ([]routing.Result, string) {
	t.Helper()
	resp, err := http.Get(s.url + "/routes")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rs []routing.Result
	if err := json.NewDecoder(resp.Body).Decode(&rs); err != nil {
		t.Fatal(err)
	}
	return rs, resp.Header.Get("X-Routing-Generation")
}

// avoids reports whether no route of any cluster passes through site
// (the site's own entry route aside, for clients with stale DNS).
func avoids(t *testing.T, s *server, site string) bool {
	rs, _ := allRoutes(t, s)
	for _, r := range rs {
		if r.Site != site && strings.Contains(" "+strings.Join(r.Path, " ")+" ", " "+site+" ") {
			return false
		}
	}
	return len(rs) > 0
}

func metricsText(t *testing.T, s *server) string {
	_, m := get(t, s.url+"/metrics")
	return string(m)
}

func etcdConnected(t *testing.T, s *server, want string) func() bool {
	return func() bool {
		m := metricsText(t, s)
		for _, dir := range []string{"sites", "routes", "app-routes"} {
			if !strings.Contains(m, `geotraffic_routing_etcd_connected{prefix="/conftool/v1/`+dir+`/"} `+want) {
				return false
			}
		}
		return true
	}
}

// `trafficctl serve --etcd`: etcd's sites and route overrides change
// /routes at once; a loop written by hand is refused and reported; the
// local admin_state file wins; an outage keeps the routes.
func TestServeFollowsEtcd(t *testing.T) {
	e := testetcd.Start(t)
	c := e.Client(t)
	dir := t.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(t, rp, exampleConfig(t))
	testutil.WriteAtomic(t, ap, "")
	s := serve(t, "--routing", rp, "--admin-state", ap, "--etcd", e.Endpoint())
	if avoids(t, s, "esams") {
		t.Fatal("drmrs goes through esams in the default config")
	}

	etcdPut(t, c, kEsams, `{"state":"down"}`)
	testutil.WaitFor(t, "every cluster to avoid esams", func() bool { return avoids(t, s, "esams") })
	if r := route(t, s, "upload", "drmrs"); !strings.Contains(r.Reasons[0].Detail, "esams is DOWN (etcd "+kEsams+"@") {
		t.Errorf("upload/drmrs does not name the etcd key: %+v", r.Reasons[0])
	}

	etcdPut(t, c, kUlsfo, `{"route":["eqiad"]}`)
	testutil.WaitFor(t, "the ulsfo override", pathIs(t, s, "text", "ulsfo", "ulsfo eqiad"))
	if r := route(t, s, "text", "ulsfo"); !strings.Contains(r.Reasons[0].Detail, "route from etcd "+kUlsfo+"@") {
		t.Errorf("text/ulsfo does not say where its route came from: %+v", r.Reasons[0])
	}

	// A loop, written with etcdctl's rights past confctl's checks: codfw
	// -> magru -> codfw (magru: [eqiad, codfw] in routing.yaml).
	before, gen := allRoutes(t, s)
	etcdPut(t, c, kCodfwLoop, `{"route":"magru"}`)
	testutil.WaitFor(t, "the loop's refusal", func() bool { return strings.Contains(statusErrors(t, s)["etcd"], "etcd "+kCodfwLoop+"@") })
	_, st := get(t, s.url+"/status")
	contains(t, "/status", string(st), "loop: codfw -> magru -> codfw", `"overrides": [`, "etcd "+kUlsfo+"@", `"connected": true`)
	contains(t, "/metrics", metricsText(t, s), `geotraffic_routing_file_valid{file="etcd"} 0`)
	contains(t, "serve log", s.logText(), "etcd: overrides refused; the last good combination stays in force", kCodfwLoop)
	if after, g := allRoutes(t, s); g != gen || !sameRoutes(before, after) {
		t.Fatalf("the refused loop changed /routes (generation %s -> %s)", gen, g)
	}

	// The local file wins over etcd for the same key.
	testutil.WriteAtomic(t, ap, "site/esams => UP\n")
	testutil.WaitFor(t, "the file's esams UP", pathIs(t, s, "upload", "drmrs", "drmrs esams eqiad"))
	testutil.WriteAtomic(t, ap, "")
	testutil.WaitFor(t, "etcd's esams DOWN again", func() bool { return avoids(t, s, "esams") })

	// etcd stopped: the last good state stays and the metrics say so.
	before, gen = allRoutes(t, s)
	e.Stop()
	testutil.WaitFor(t, "etcd_connected 0", etcdConnected(t, s, "0"))
	if after, g := allRoutes(t, s); g != gen || !sameRoutes(before, after) {
		t.Fatal("the outage changed /routes")
	}
	_, st = get(t, s.url+"/status")
	contains(t, "/status", string(st), `"connected": false`)
	e.Restart(t)
	etcdDelete(t, c, kCodfwLoop)
	etcdPut(t, c, kUlsfo, `{"route":["codfw","eqiad"]}`)
	testutil.WaitFor(t, "the change after the outage", func() bool {
		r := route(t, s, "text", "ulsfo")
		return strings.Join(r.Path, " ") == "ulsfo codfw eqiad" && strings.Contains(r.Reasons[0].Detail, "route from etcd")
	})
	testutil.WaitFor(t, "etcd_connected 1", etcdConnected(t, s, "1"))
	testutil.WaitFor(t, "the refusal to clear", func() bool {
		return strings.Contains(metricsText(t, s), `geotraffic_routing_file_valid{file="etcd"} 1`)
	})
}

// A new routing.yaml gets etcd's overrides again; one they do not
// validate with is refused under "etcd" and changes nothing.
func TestServeEtcdWithNewRoutingFile(t *testing.T) {
	e := testetcd.Start(t)
	c := e.Client(t)
	etcdPut(t, c, kUlsfo, `{"route":"esams"}`)
	dir := t.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	good := exampleConfig(t)
	testutil.WriteAtomic(t, rp, good)
	s := serve(t, "--routing", rp, "--admin-state", ap, "--etcd", e.Endpoint())
	// serve waited for etcd before serving: the override is there at once.
	if got := strings.Join(route(t, s, "text", "ulsfo").Path, " "); got != "ulsfo esams eqiad" {
		t.Fatalf("ulsfo at start: %q", got)
	}
	// esams now forwards to codfw in the file; the override stays.
	next := strings.Replace(good, "      esams: eqiad\n", "      esams: [codfw, eqiad]\n", 1)
	testutil.WriteAtomic(t, rp, next)
	testutil.WaitFor(t, "the new file under the override", pathIs(t, s, "text", "ulsfo", "ulsfo esams codfw eqiad"))
	// A file where esams has no text entry leaves the override a next
	// hop without one: refused, the last good combination stays.
	_, gen := allRoutes(t, s)
	noEsams := strings.Replace(strings.Replace(next, "      esams: [codfw, eqiad]\n", "", 1), "      drmrs: [esams, eqiad]\n", "      drmrs: eqiad\n", 1)
	if strings.Contains(noEsams, "esams: [codfw") || strings.Contains(noEsams, "drmrs: [esams") {
		t.Fatal("test edit did not apply")
	}
	testutil.WriteAtomic(t, rp, noEsams)
	testutil.WaitFor(t, "the refusal", func() bool {
		return strings.Contains(statusErrors(t, s)["etcd"], "etcd "+kUlsfo+"@") && strings.Contains(statusErrors(t, s)["etcd"], `next hop "esams"`)
	})
	if _, g := allRoutes(t, s); g != gen {
		t.Fatal("the refused combination changed /routes")
	}
	contains(t, "/metrics", metricsText(t, s), `geotraffic_routing_file_valid{file="routing"} 1`, `geotraffic_routing_file_valid{file="etcd"} 0`)
	etcdDelete(t, c, kUlsfo)
	testutil.WaitFor(t, "the file alone once the override is gone", pathIs(t, s, "text", "ulsfo", "ulsfo codfw eqiad"))
}

// serve starts while etcd is down, serves the files, and applies etcd
// once it answers.
func TestServeStartsWithoutEtcd(t *testing.T) {
	e := testetcd.Start(t)
	c := e.Client(t)
	etcdPut(t, c, kUlsfo, `{"route":"eqiad"}`)
	e.Stop()
	rp, ap := files(t, "")
	s := serve(t, "--routing", rp, "--admin-state", ap, "--etcd", e.Endpoint(), "--etcd-timeout", "100ms")
	if got := strings.Join(route(t, s, "text", "ulsfo").Path, " "); got != "ulsfo codfw eqiad" {
		t.Fatalf("ulsfo from the files alone: %q", got)
	}
	contains(t, "serve log", s.logText(), "etcd has not answered; serving routing.yaml and admin_state alone")
	e.Restart(t)
	testutil.WaitFor(t, "etcd's override once it answers", pathIs(t, s, "text", "ulsfo", "ulsfo eqiad"))
}

// statusErrors is the errors object of /status, by kind.
func statusErrors(t *testing.T, s *server) map[string]string {
	t.Helper()
	_, body := get(t, s.url+"/status")
	var st struct{ Errors map[string]string }
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("/status: %v: %s", err, body)
	}
	return st.Errors
}

func sameRoutes(a, b []routing.Result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !routing.SameRoute(a[i], b[i]) {
			return false
		}
	}
	return true
}
