package routinge2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// The JSON contract of the README: a route object has exactly these keys,
// each of its reasons and each of its apps exactly theirs.
var (
	routeKeys  = []string{"apps", "cluster", "entry_down", "path", "reasons", "site", "status"}
	reasonKeys = []string{"detail", "next", "reason", "site"}
	appKeys    = []string{"backend", "dc", "detail", "reason"}
)

func keysOf(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkRouteShape decodes one route object and compares every key set with
// the contract; it returns the number of reasons and apps seen, so a test
// can tell it checked some.
func checkRouteShape(t *testing.T, where string, raw json.RawMessage) (reasons, apps int) {
	t.Helper()
	var r map[string]json.RawMessage
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s: %v: %s", where, err, raw)
	}
	if got := keysOf(r); !slices.Equal(got, routeKeys) {
		t.Errorf("%s: route keys %v, want %v", where, got, routeKeys)
	}
	var rs []map[string]json.RawMessage
	if err := json.Unmarshal(r["reasons"], &rs); err != nil {
		t.Fatalf("%s: reasons: %v", where, err)
	}
	for _, x := range rs {
		if got := keysOf(x); !slices.Equal(got, reasonKeys) {
			t.Errorf("%s: reason keys %v, want %v", where, got, reasonKeys)
		}
	}
	var as map[string]map[string]json.RawMessage
	if err := json.Unmarshal(r["apps"], &as); err != nil {
		t.Fatalf("%s: apps: %v", where, err)
	}
	for name, a := range as {
		if got := keysOf(a); !slices.Equal(got, appKeys) {
			t.Errorf("%s: app %s keys %v, want %v", where, name, got, appKeys)
		}
	}
	var path []string
	if err := json.Unmarshal(r["path"], &path); err != nil || len(path) == 0 {
		t.Errorf("%s: path is not a non-empty list of strings: %s", where, r["path"])
	}
	return len(rs), len(as)
}

// checkListShape checks a JSON list of route objects; want is its length.
func checkListShape(t *testing.T, where string, body []byte, want int) {
	t.Helper()
	var list []json.RawMessage
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("%s: not a JSON list: %v: %s", where, err, body)
	}
	if len(list) != want {
		t.Fatalf("%s: %d routes, want %d", where, len(list), want)
	}
	var reasons, apps int
	for _, raw := range list {
		r, a := checkRouteShape(t, where, raw)
		reasons, apps = reasons+r, apps+a
	}
	if reasons == 0 || apps == 0 {
		t.Fatalf("%s: no reasons or apps to check", where)
	}
}

// The admin_state covers every status and reason kind: shutdown (esams
// in text), promoted-to-direct and unreachable apps (eqiad DOWN).
func TestJSONShape(t *testing.T) {
	dir := t.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(t, rp, strings.Replace(exampleConfig(t), "    traffic_shutdown: []     #", "    traffic_shutdown: [esams]     #", 1))
	testutil.WriteAtomic(t, ap, "site/eqiad => DOWN\n")

	out, stderr, code := run(t, "routes", "--routing", rp, "--admin-state", ap, "--format", "json")
	if code != 0 {
		t.Fatalf("routes: exit %d: %s", code, stderr)
	}
	checkListShape(t, "routes --format json", []byte(out), 14)

	s := serve(t, "--routing", rp, "--admin-state", ap)
	code, body := get(t, s.url+"/routes")
	if code != http.StatusOK {
		t.Fatalf("/routes: %d", code)
	}
	checkListShape(t, "/routes", body, 14)
	if string(body) != out {
		t.Errorf("/routes and `routes --format json` differ:\n%s\n---\n%s", body, out)
	}
	code, body = get(t, s.url+"/routes/text")
	if code != http.StatusOK {
		t.Fatalf("/routes/text: %d", code)
	}
	checkListShape(t, "/routes/text", body, 7)
	for _, site := range []string{"esams", "ulsfo", "codfw"} {
		code, body = get(t, s.url+"/routes/text/"+site)
		if code != http.StatusOK {
			t.Fatalf("/routes/text/%s: %d", site, code)
		}
		checkRouteShape(t, "/routes/text/"+site, body)
	}
}
