package updatee2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// authdns ctl stage/commit/abort drive the two phases by hand.
func TestCtlStageCommitAbort(t *testing.T) {
	s := startServer(t, "")
	src := filepath.Join(t.TempDir(), "dns")
	makeData(t, src)
	zone := filepath.Join(src, "zones", "example.org")
	orig, _ := os.ReadFile(zone)
	writeFile(t, zone, string(orig)+"byhand IN A 192.0.2.55\n")
	ctl := func(args ...string) (string, string, int) {
		return run(t, "", "authdns", append([]string{"ctl", "--control", s.control}, args...)...)
	}

	if _, errOut, code := ctl("abort"); code != 2 || !strings.Contains(errOut, "abort ID") {
		t.Fatalf("abort without an id: exit %d %s", code, errOut)
	}
	out, errOut, code := ctl("stage", src)
	id := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(id, "ctl-") {
		t.Fatalf("stage: exit %d %q %s", code, out, errOut)
	}
	if st := s.status(t); st.Staged == nil || st.Staged.ID != id {
		t.Fatalf("staged: %+v, want %s", st.Staged, id)
	}
	if _, errOut, code := ctl("abort", "not-"+id); code != 1 || !strings.Contains(errOut, "no such staged bundle") {
		t.Fatalf("abort of another id: exit %d %s", code, errOut)
	}
	if out, errOut, code := ctl("abort", id); code != 0 || s.status(t).Staged != nil {
		t.Fatalf("abort: exit %d %s%s", code, out, errOut)
	}
	if got := s.dig("byhand.example.org", "A"); got != "" {
		t.Fatalf("an aborted bundle is served: %q", got)
	}

	out, errOut, code = ctl("stage", src)
	id = strings.TrimSpace(out)
	if code != 0 {
		t.Fatalf("stage: exit %d %s", code, errOut)
	}
	if out, errOut, code := ctl("commit", id); code != 0 || !strings.Contains(out, `"data_digest"`) {
		t.Fatalf("commit: exit %d %s%s", code, out, errOut)
	}
	if got := s.dig("byhand.example.org", "A"); got != "192.0.2.55" {
		t.Errorf("after commit: byhand.example.org = %q", got)
	}
}
