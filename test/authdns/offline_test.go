package authdnse2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// The commands that only read files print their result and nothing on
// stderr for the shipped configuration; --log-level info brings the
// loading logs back. Usage errors exit 2 with a hint.
func TestOfflineCommandsPrintResultsOnly(t *testing.T) {
	cfg := filepath.Join(repoRoot(), "config", "authdns.yaml")
	for _, args := range [][]string{
		{"checkconf", "--config", cfg},
		{"states", "--config", cfg, "--no-etcd"},
		{"geoip-lookup", "generic-map", "192.0.2.1", "--config", cfg},
	} {
		out, errOut, code := runAuthdns(t, args...)
		if code != 0 || out == "" || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	_, errOut, _ := runAuthdns(t, "geoip-lookup", "generic-map", "192.0.2.1", "--config", cfg, "--log-level", "info")
	if !strings.Contains(errOut, "level=INFO") {
		t.Errorf("--log-level info: no INFO log: %q", errOut)
	}
	for _, args := range [][]string{{"geoip-lookup", "generic-map", "--config", cfg}, {"states", "extra"}, {"checkconf", "--nope"}, {"nope"}} {
		out, errOut, code := runAuthdns(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "Run 'authdns") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	out, errOut, code := runAuthdns(t, "states", "--help")
	if code != 0 || errOut != "" || !strings.Contains(out, "authdns geoip-lookup [--config FILE] MAP ADDRESS") {
		t.Errorf("--help: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
