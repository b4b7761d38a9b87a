package routinge2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/routing"
)

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func route(t *testing.T, s *server, cluster, site string) routing.Result {
	t.Helper()
	code, body := get(t, s.url+"/routes/"+cluster+"/"+site)
	var r routing.Result
	if code != http.StatusOK {
		t.Fatalf("GET /routes/%s/%s: %d %s", cluster, site, code, body)
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("GET /routes/%s/%s: %v: %s", cluster, site, err, body)
	}
	return r
}

func pathIs(t *testing.T, s *server, cluster, site, want string) func() bool {
	return func() bool { return strings.Join(route(t, s, cluster, site).Path, " ") == want }
}

func reasons(r routing.Result) string {
	var out []string
	for _, x := range r.Reasons {
		out = append(out, x.Reason)
	}
	return strings.Join(out, " ")
}

func TestServeFollowsAdminState(t *testing.T) {
	dir := t.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(t, rp, exampleConfig(t))
	s := serve(t, "--routing", rp, "--admin-state", ap)

	if got := strings.Join(route(t, s, "text", "ulsfo").Path, " "); got != "ulsfo codfw eqiad" {
		t.Fatalf("initial ulsfo path %q", got)
	}

	// The seeds' codfw outage, by atomic rename: ulsfo falls back to eqiad.
	testutil.WriteAtomic(t, ap, "# codfw outage\nsite/codfw => DOWN\ngeoip/*/codfw => DOWN\n")
	testutil.WaitFor(t, "codfw DOWN to reroute text/ulsfo", pathIs(t, s, "text", "ulsfo", "ulsfo eqiad"))
	if r := route(t, s, "text", "ulsfo"); reasons(r) != "fallback configured" || !strings.Contains(r.Reasons[0].Detail, "codfw is DOWN (admin_state line 2") {
		t.Errorf("text/ulsfo reasons: %+v", r.Reasons)
	}
	// upload's seeds-form `ulsfo: codfw` has no next choice: nearest up site.
	if r := route(t, s, "upload", "ulsfo"); strings.Join(r.Path, " ") != "ulsfo eqiad" || reasons(r) != "nearest configured" {
		t.Errorf("upload/ulsfo: %v %s", r.Path, reasons(r))
	}

	// In-place write: eqiad DOWN instead; codfw is promoted to direct.
	writeInPlace(t, ap, "site/eqiad => DOWN\n")
	testutil.WaitFor(t, "eqiad DOWN to promote codfw", pathIs(t, s, "text", "ulsfo", "ulsfo codfw"))
	r := route(t, s, "text", "esams")
	if strings.Join(r.Path, " ") != "esams codfw" || reasons(r) != "nearest promoted-to-direct" {
		t.Errorf("text/esams: %v %s", r.Path, reasons(r))
	}
	if a := r.Apps["appservers"]; a.Reason != routing.ReasonUnreachable || a.DC != "" {
		t.Errorf("appservers (route: eqiad only) must say unreachable: %+v", a)
	}
	if a := r.Apps["api"]; a.DC != "codfw" || a.Backend != "api.svc.codfw.wmnet" || a.Reason != routing.ReasonFallback {
		t.Errorf("api: %+v", a)
	}

	// Both core DCs DOWN: nothing valid remains, and the result says so.
	testutil.WriteAtomic(t, ap, "site/eqiad => DOWN\nsite/codfw => DOWN\n")
	testutil.WaitFor(t, "both core DCs DOWN", func() bool { return route(t, s, "text", "esams").Status == routing.StatusUnreachable })

	// Deleting the file clears every forced state.
	if err := os.Remove(ap); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "admin_state removal", pathIs(t, s, "text", "ulsfo", "ulsfo codfw eqiad"))
	contains(t, "serve log", s.logText(), "admin_state: state of 'site/codfw' forced to DOWN")
}

func TestServeBadRoutingKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	good := exampleConfig(t)
	testutil.WriteAtomic(t, rp, good)
	testutil.WriteAtomic(t, ap, "")
	s := serve(t, "--routing", rp, "--admin-state", ap)

	// A loop: codfw -> ulsfo -> codfw. Rejected whole; last good stays.
	bad := strings.Replace(good, "      codfw: eqiad\n      ulsfo: [codfw, eqiad]", "      codfw: ulsfo\n      ulsfo: [codfw, eqiad]", 1)
	if bad == good {
		t.Fatal("test edit did not apply")
	}
	writeInPlace(t, rp, bad)
	// An in-place write may first be read empty (also rejected): wait for
	// the bad contents themselves.
	testutil.WaitFor(t, "the bad file to be reported", func() bool {
		_, st := get(t, s.url+"/status")
		return strings.Contains(string(st), "loop: codfw -> ulsfo -> codfw")
	})
	_, m := get(t, s.url+"/metrics")
	contains(t, "/metrics", string(m), `geotraffic_routing_file_valid{file="routing"} 0`)
	_, st := get(t, s.url+"/status")
	contains(t, "/status", string(st), rp+":", "loop: codfw -> ulsfo -> codfw")
	contains(t, "serve log", s.logText(), "routing: file rejected; the last good contents stay in force", "loop: codfw -> ulsfo -> codfw")
	if got := strings.Join(route(t, s, "text", "ulsfo").Path, " "); got != "ulsfo codfw eqiad" {
		t.Fatalf("bad file changed routes: %q", got)
	}

	// admin_state changes still re-resolve over the last good routing.yaml.
	testutil.WriteAtomic(t, ap, "site/codfw => DOWN\n")
	testutil.WaitFor(t, "admin_state over last good config", pathIs(t, s, "text", "ulsfo", "ulsfo eqiad"))

	// A good new routing.yaml is taken: esams now prefers codfw, which is
	// DOWN, so it falls back to eqiad; once codfw is up it goes via codfw.
	fixed := strings.Replace(good, "      esams: eqiad\n", "      esams: [codfw, eqiad]\n", 1) // text's table comes first
	if fixed == good {
		t.Fatal("test edit did not apply")
	}
	testutil.WriteAtomic(t, rp, fixed)
	testutil.WaitFor(t, "the fixed file to be accepted", func() bool {
		_, m := get(t, s.url+"/metrics")
		return strings.Contains(string(m), `geotraffic_routing_file_valid{file="routing"} 1`)
	})
	if r := route(t, s, "text", "esams"); reasons(r) != "fallback configured" {
		t.Errorf("text/esams after new file: %v %s", r.Path, reasons(r))
	}
	testutil.WriteAtomic(t, ap, "")
	testutil.WaitFor(t, "esams via codfw", pathIs(t, s, "text", "esams", "esams codfw eqiad"))
}

func TestServeEndpoints(t *testing.T) {
	dir := t.TempDir()
	rp := filepath.Join(dir, "routing.yaml")
	testutil.WriteAtomic(t, rp, exampleConfig(t))
	s := serve(t, "--routing", rp, "--admin-state", filepath.Join(dir, "admin_state"))

	code, body := get(t, s.url+"/routes")
	var all []routing.Result
	if code != 200 || json.Unmarshal(body, &all) != nil || len(all) != 14 {
		t.Fatalf("/routes: %d, %d results: %s", code, len(all), body)
	}
	checkListShape(t, "/routes", body, 14) // the exact keys: TestJSONShape
	code, body = get(t, s.url+"/routes/upload")
	var up []routing.Result
	if code != 200 || json.Unmarshal(body, &up) != nil || len(up) != 7 || up[0].Cluster != "upload" {
		t.Fatalf("/routes/upload: %d %s", code, body)
	}
	for _, p := range []string{"/routes/nope", "/routes/text/nope", "/routes/nope/eqiad", "/routes/text/", "/routes/text/eqiad/x", "/nope"} {
		if code, body := get(t, s.url+p); code != http.StatusNotFound || !strings.Contains(string(body), `"error"`) {
			t.Errorf("GET %s: %d %s", p, code, body)
		}
	}
	_, m := get(t, s.url+"/metrics")
	contains(t, "/metrics", string(m), `geotraffic_routing_routes{cluster="text",status="ok"} 7`,
		`geotraffic_routing_file_valid{file="admin_state"} 1`, "geotraffic_routing_sites_down 0", "go_goroutines")
}

func TestServeRefusesBadStart(t *testing.T) {
	dir := t.TempDir()
	rp := filepath.Join(dir, "routing.yaml")
	testutil.WriteAtomic(t, rp, strings.Replace(exampleConfig(t), "esams: eqiad", "esams: nosuch", 1))
	_, stderr, code := run(t, "serve", "--routing", rp, "--admin-state", filepath.Join(dir, "as"), "--listen", "127.0.0.1:0")
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	contains(t, "stderr", stderr, rp+":25: clusters.text.route_table.esams: unknown site \"nosuch\"")
}

// A missing admin_state file is fine, a missing directory cannot be
// watched: serve refuses to start, before announcing anything.
func TestServeRefusesMissingAdminStateDir(t *testing.T) {
	rp, _ := files(t, "")
	as := filepath.Join(t.TempDir(), "nonexistent_dir", "as")
	_, stderr, code := run(t, "serve", "--routing", rp, "--admin-state", as, "--listen", "127.0.0.1:0")
	if code != 1 || strings.Contains(stderr, "serving routes") {
		t.Fatalf("exit %d, want 1 and no announcement: %s", code, stderr)
	}
	contains(t, "stderr", stderr, as+": its directory cannot be watched", "no such file or directory")
}
