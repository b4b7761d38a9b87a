package routinge2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/routing"
)

// With eqiad DOWN in the example, codfw is promoted, but appservers
// (route: eqiad only) has no valid DC anywhere: every text route is
// "degraded", not "ok", in the table, JSON, explain and metrics; upload's
// swift (active-active) is fine. A codfw backend for appservers, which
// no route uses, is warned about.
func TestDegradedWhenAnAppHasNoDC(t *testing.T) {
	rp, ap := files(t, "site/eqiad => DOWN\n")
	withUnused := strings.Replace(exampleConfig(t), "{eqiad: appservers.svc.eqiad.wmnet}",
		"{eqiad: appservers.svc.eqiad.wmnet, codfw: appservers.svc.codfw.wmnet}", 1)
	testutil.WriteAtomic(t, rp, withUnused)
	unused := "clusters.text.apps.appservers.backends.codfw: backend appservers.svc.codfw.wmnet is never used"

	out, stderr, code := run(t, "routes", "--routing", rp, "--admin-state", ap)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	contains(t, "routes stderr", stderr, "trafficctl: warning: "+rp+":", unused)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(l)
		want := "degraded"
		if f[0] == "upload" {
			want = "ok"
		}
		if f[3] != want {
			t.Errorf("status %s, want %s: %q", f[3], want, l)
		}
	}

	out, _, _ = run(t, "routes", "--routing", rp, "--admin-state", ap, "--format", "json", "--cluster", "text")
	var rs []routing.Result
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 7 {
		t.Fatalf("%v: %s", err, out)
	}
	for _, r := range rs {
		if r.Status != routing.StatusDegraded || r.Apps["appservers"].Reason != routing.ReasonUnreachable || r.Apps["api"].DC != "codfw" {
			t.Errorf("%s/%s: %s %+v", r.Cluster, r.Site, r.Status, r.Apps)
		}
	}

	out, _, _ = run(t, "explain", "--routing", rp, "--admin-state", ap, "text", "ulsfo")
	contains(t, "explain", out, "text/ulsfo: degraded (no valid DC for appservers)", "codfw -> direct: promoted-to-direct")

	s := serve(t, "--routing", rp, "--admin-state", ap)
	_, m := get(t, s.url+"/metrics")
	contains(t, "/metrics", string(m), `geotraffic_routing_routes{cluster="text",status="degraded"} 7`,
		`geotraffic_routing_routes{cluster="text",status="ok"} 0`, `geotraffic_routing_routes{cluster="upload",status="ok"} 7`,
		`geotraffic_routing_warnings{file="routing"} 1`)
	_, st := get(t, s.url+"/status")
	contains(t, "/status", string(st), unused)
	contains(t, "serve log", s.logText(), "level=WARN", "backend appservers.svc.codfw.wmnet is never used")
}
