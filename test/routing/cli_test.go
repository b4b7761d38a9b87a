package routinge2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/routing"
)

// files writes the example routing.yaml and an admin_state into a temp dir.
func files(t *testing.T, adminState string) (rp, ap string) {
	t.Helper()
	dir := t.TempDir()
	rp, ap = filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(t, rp, exampleConfig(t))
	testutil.WriteAtomic(t, ap, adminState)
	return rp, ap
}

func TestRoutesTable(t *testing.T) {
	rp, ap := files(t, "site/codfw => DOWN\n")
	out, stderr, code := run(t, "routes", "--routing", rp, "--admin-state", ap, "--cluster", "text")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 8 || !strings.HasPrefix(lines[0], "CLUSTER") {
		t.Fatalf("want a header and 7 rows:\n%s", out)
	}
	contains(t, "routes", out, "ulsfo > eqiad", "fallback,configured", "restbase=eqiad (configured)")
	if strings.Contains(out, "upload") {
		t.Errorf("--cluster text shows upload:\n%s", out)
	}
}

func TestRoutesJSON(t *testing.T) {
	rp, ap := files(t, "site/eqiad => DOWN\n")
	out, stderr, code := run(t, "routes", "--routing", rp, "--admin-state", ap, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rs []routing.Result
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(rs) != 14 {
		t.Fatalf("%d results", len(rs))
	}
	for _, r := range rs {
		if r.Cluster == "upload" && r.Site == "esams" {
			if strings.Join(r.Path, ",") != "esams,codfw" || r.Reasons[1].Reason != routing.ReasonPromoted || r.Apps["swift"].DC != "codfw" {
				t.Errorf("upload/esams: %+v", r)
			}
		}
	}
	// Without --admin-state nothing is forced.
	out, _, _ = run(t, "routes", "--routing", rp, "--format", "json")
	if strings.Contains(out, "promoted") {
		t.Errorf("no admin state, yet a promotion:\n%s", out)
	}
}

func TestExplain(t *testing.T) {
	rp, ap := files(t, "site/codfw => DOWN\n")
	// Flags after the positional arguments work too.
	out, stderr, code := run(t, "explain", "text", "ulsfo", "api", "--routing", rp, "--admin-state", ap)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	contains(t, "explain", out, "text/ulsfo: ok", "path: ulsfo > eqiad",
		"ulsfo -> eqiad: fallback: choice 2 of 2; skipped: codfw is DOWN (admin_state line 1: site/codfw => DOWN)",
		"eqiad -> direct: configured", "app api: eqiad api.svc.eqiad.wmnet (configured)")
	if strings.Contains(out, "appservers") {
		t.Errorf("explain APP shows other apps:\n%s", out)
	}

	out, _, code = run(t, "explain", "--routing", rp, "--admin-state", ap, "--format", "json", "text", "ulsfo")
	var r routing.Result
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if len(r.Apps) != 3 || r.Reasons[0].Reason != routing.ReasonFallback || r.Reasons[0].Next != "eqiad" {
		t.Errorf("json explain: %+v", r)
	}

	for _, args := range [][]string{{"text", "nosuch"}, {"video", "ulsfo"}, {"text", "ulsfo", "nope"}} {
		_, stderr, code := run(t, append([]string{"explain", "--routing", rp}, args...)...)
		if code != 1 || !strings.Contains(stderr, "trafficctl: ") {
			t.Errorf("explain %v: exit %d: %s", args, code, stderr)
		}
	}
}

func TestWhatIf(t *testing.T) {
	rp, _ := files(t, "")
	out, stderr, code := run(t, "what-if", "--routing", rp, "--down", "codfw", "--cluster", "upload")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var ulsfo string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "upload") && strings.Contains(l, "ulsfo") && strings.Contains(l, "  -  ") {
			ulsfo = l
		}
	}
	contains(t, "what-if upload/ulsfo row", ulsfo, "ulsfo > codfw > eqiad ok [configured,configured,configured]", "ulsfo > eqiad ok [nearest,configured]", "yes")
	if strings.Contains(out, "text") {
		t.Errorf("--cluster upload shows text:\n%s", out)
	}

	out, _, code = run(t, "what-if", "--routing", rp, "--down", "eqiad,codfw", "--format", "json")
	var changes []routing.Change
	if code != 0 || json.Unmarshal([]byte(out), &changes) != nil || len(changes) != 14 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, c := range changes {
		if c.Site == "esams" && (!c.Changed || c.Before.Status != routing.StatusOK || c.After.Status != routing.StatusUnreachable) {
			t.Errorf("%s/esams: %+v", c.Cluster, c)
		}
	}

	_, stderr, code = run(t, "what-if", "--routing", rp, "--down", "cdfw")
	if code != 1 || !strings.Contains(stderr, `unknown site "cdfw"`) {
		t.Errorf("typo: exit %d: %s", code, stderr)
	}
	_, stderr, code = run(t, "what-if", "--routing", rp)
	if code != 2 || !strings.Contains(stderr, "--down") {
		t.Errorf("missing --down: exit %d: %s", code, stderr)
	}
}

func TestValidationErrorsNameFileLine(t *testing.T) {
	dir := t.TempDir()
	rp := filepath.Join(dir, "routing.yaml")
	src := strings.Replace(exampleConfig(t), "      codfw: eqiad\n      ulsfo: [codfw, eqiad]", "      codfw: ulsfo\n      ulsfo: [codfw, eqiad]", 1)
	src = strings.Replace(src, "route: eqiad ", "route: [eqiad, ulsfo] ", 1)
	if err := os.WriteFile(rp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "routes", "--routing", rp)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	contains(t, "stderr", stderr,
		rp+":24: clusters.text.route_table.ulsfo: loop: codfw -> ulsfo -> codfw",
		rp+":32: clusters.text.apps.appservers.route: DC \"ulsfo\" has no backend under backends:")
}

func TestCheckUnreadableAuthdnsConfig(t *testing.T) {
	rp, _ := files(t, "")
	_, stderr, code := run(t, "check", "--routing", rp, "--authdns-config", "/nonexistent/authdns.yaml")
	if code != 1 || !strings.HasPrefix(stderr, "trafficctl: ") || !strings.Contains(stderr, "/nonexistent/authdns.yaml") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, stderr, code = run(t, "check", "--routing", rp)
	if code != 2 || !strings.Contains(stderr, "--authdns-config") {
		t.Fatalf("missing --authdns-config: exit %d: %s", code, stderr)
	}
}

func TestUsageHelpVersion(t *testing.T) {
	out, _, code := run(t, "--version")
	if code != 0 || strings.TrimSpace(out) != "trafficctl e2e-test" {
		t.Errorf("--version: %d %q", code, out)
	}
	out, _, code = run(t, "--help")
	if code != 0 {
		t.Errorf("--help: %d", code)
	}
	contains(t, "--help", out, "routes", "explain", "what-if", "check", "serve", "site/NAME => DOWN")
	out, _, code = run(t, "routes", "--help")
	if code != 0 || !strings.Contains(out, "-routing") || !strings.Contains(out, "-format") {
		t.Errorf("routes --help: %d %s", code, out)
	}
	for _, args := range [][]string{{}, {"nope"}, {"routes"}, {"routes", "--routing", "x", "--format", "xml"}, {"routes", "--bogus"}, {"serve", "--routing", "x"}} {
		if _, stderr, code := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, stderr)
		}
	}
}

// The shipped routing.yaml and authdns.yaml give no warning.
func TestDefaultConfigQuiet(t *testing.T) {
	rp := filepath.Join("..", "..", "config", "routing.yaml")
	ap := filepath.Join("..", "..", "config", "admin_state")
	for _, args := range [][]string{
		{"routes", "--routing", rp},
		{"what-if", "--routing", rp, "--down", "esams"},
		{"explain", "text", "ulsfo", "--routing", rp},
		{"check", "--routing", rp, "--admin-state", ap, "--authdns-config", filepath.Join("..", "..", "config", "authdns.yaml")},
	} {
		if _, stderr, code := run(t, args...); code != 0 || stderr != "" {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
}
