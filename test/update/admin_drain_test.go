package updatee2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// drain writes a local admin_state on one server, as an operator does
// there between rollouts (by rename), and returns the file's path.
func (s *server) drain(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(s.dir, "data", "admin_state")
	writeFile(t, p+".tmp", content)
	if err := os.Rename(p+".tmp", p); err != nil {
		t.Fatal(err)
	}
	return p
}

// A server drained locally differs from the data rolled out: the diff says
// so for that server alone, instead of "nothing to do".
func TestLocalDrainShownInTheDiff(t *testing.T) {
	c := newCluster(t)
	c.servers[1].drain(t, "# forced states\nsite/esams => DOWN\n")
	out, errOut, code := c.update(t, "--diff-only")
	if code != 0 || strings.Contains(out, "nothing to do") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		c.servers[1].control + ": data ", "~ admin_state", "admin_state - site/esams => DOWN",
		"NOTE: " + c.servers[1].control + " forces states this rollout removes",
		c.servers[0].control + ": already serving", c.servers[2].control + ": already serving",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
}

// A drain written after the diff refuses the stage there (409), and one
// written after the stage refuses the commit (409, naming file and line):
// either way the drain stays in force and nothing of the rollout lands.
func TestLocalDrainAfterDiffOrStageIsKept(t *testing.T) {
	t.Run("after the diff", func(t *testing.T) {
		c := newCluster(t)
		c.change(t, true)
		before := c.digests(t)
		lock := filepath.Join(t.TempDir(), "lock")
		r := startAtPrompt(t, "--data", c.src, "--servers", c.list(), "--lock", lock)
		c.servers[2].drain(t, "site/eqiad => DOWN\n")
		err := r.confirm()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("exit %v:\n%s%s", err, r.out.String(), r.errOut.String())
		}
		if !strings.Contains(r.errOut.String(), "admin_state file was edited here") {
			t.Errorf("stderr:\n%s", r.errOut.String())
		}
		for i, s := range c.servers {
			if i != 2 && s.status(t).DataDigest != before[i] {
				t.Errorf("server %d changed", i)
			}
			if got := s.dig("rolled.example.org", "A"); got != "" {
				t.Errorf("server %d serves the refused rollout", i)
			}
		}
		if data, _ := os.ReadFile(filepath.Join(c.servers[2].dir, "data", "admin_state")); string(data) != "site/eqiad => DOWN\n" {
			t.Errorf("the drain was overwritten: %q", data)
		}
	})
	t.Run("after the stage", func(t *testing.T) {
		s := startServer(t, "")
		src := filepath.Join(t.TempDir(), "dns")
		makeData(t, src)
		zone := filepath.Join(src, "zones", "example.org")
		orig, _ := os.ReadFile(zone)
		writeFile(t, zone, string(orig)+"rolled IN A 192.0.2.99\n")
		ctl := func(args ...string) (string, string, int) {
			return run(t, "", "authdns", append([]string{"ctl", "--control", s.control}, args...)...)
		}
		out, errOut, code := ctl("stage", src)
		if code != 0 {
			t.Fatalf("stage: exit %d %s", code, errOut)
		}
		admin := s.drain(t, "# forced states\nsite/esams => DOWN\n")
		_, errOut, code = ctl("commit", strings.TrimSpace(out))
		if code != 1 || !strings.Contains(errOut, admin+":2: + site/esams => DOWN (added)") {
			t.Fatalf("commit after a drain: exit %d\n%s", code, errOut)
		}
		if got := s.dig("rolled.example.org", "A"); got != "" {
			t.Errorf("the refused bundle is served: %q", got)
		}
		// The drain is in force: EU clients leave esams for drmrs.
		testutil.WaitFor(t, "the drain to apply", func() bool { return s.status(t).AdminStateEntries == 1 })
		if got := s.dig("+subnet="+eu, "www.example.org", "A"); got != "192.0.2.226" {
			t.Errorf("www from EU = %q, want drmrs (esams drained)", got)
		}
	})
}
