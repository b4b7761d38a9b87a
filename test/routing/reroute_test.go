package routinge2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The report, on the real binary: eqsin's first choice ulsfo is
// itself rerouted around DOWN codfw, and is still eqsin's next hop.
func TestReroutedChoiceKeepsOrder(t *testing.T) {
	dir := t.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	cfg := strings.ReplaceAll(exampleConfig(t), "      eqsin: codfw\n", "      eqsin: [ulsfo, codfw]\n")
	if err := os.WriteFile(rp, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ap, []byte("site/codfw => DOWN\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := run(t, "explain", "--routing", rp, "--admin-state", ap, "upload", "eqsin")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	contains(t, "explain upload eqsin", out, "path: eqsin > ulsfo > eqiad",
		"eqsin -> ulsfo: configured: first choice; ulsfo is itself rerouted (nearest): ulsfo > eqiad",
		"ulsfo -> eqiad: nearest")
	out, _, _ = run(t, "routes", "--routing", rp, "--admin-state", ap, "--cluster", "upload")
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "eqsin" {
			contains(t, "routes eqsin row", line, "eqsin > ulsfo > eqiad", "configured,nearest,configured")
		}
	}
}
