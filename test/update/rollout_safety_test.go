package updatee2e

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/authdns"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

func (s *server) client() *authdns.Client { return authdns.NewClient(s.control, "", 10*time.Second) }

func (s *server) status(t *testing.T) *authdns.Status {
	t.Helper()
	st, err := s.client().Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// stageOther stages, as another operator would with their own id, a copy of
// the server's data with one more record.
func stageOther(t *testing.T, s *server, id string) *authdns.Bundle {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "other")
	makeData(t, dir)
	zone := filepath.Join(dir, "zones", "example.org")
	orig, _ := os.ReadFile(zone)
	writeFile(t, zone, string(orig)+"other IN A 192.0.2.77\n")
	b, err := authdns.ReadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client().Stage(context.Background(), &authdns.StageRequest{ID: id, Before: s.status(t).DataDigest, Bundle: *b}); err != nil {
		t.Fatal(err)
	}
	return b
}

// A failed rollout aborts only its own bundle: another operator's bundle
// staged on one server survives it and can still be committed.
func TestFailedRolloutKeepsAnotherOperatorsBundle(t *testing.T) {
	c := newCluster(t)
	before := make([]string, 3)
	for i, s := range c.servers {
		before[i] = s.status(t).DataDigest
	}
	other := stageOther(t, c.servers[1], "other-operator")
	c.change(t, true)
	out, errOut, code := c.update(t, "--yes")
	if code != 1 || !strings.Contains(errOut, "waiting for commit or abort") || !strings.Contains(errOut, "aborted everywhere, nothing was changed") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	for i, s := range c.servers {
		st := s.status(t)
		if st.DataDigest != before[i] {
			t.Errorf("server %d changed", i)
		}
		switch {
		case i == 1 && (st.Staged == nil || st.Staged.ID != "other-operator"):
			t.Fatalf("the other operator's bundle was dropped: %+v", st.Staged)
		case i != 1 && st.Staged != nil:
			t.Errorf("server %d still holds %s", i, st.Staged.ID)
		}
	}
	if _, err := c.servers[1].client().Commit(context.Background(), "other-operator"); err != nil {
		t.Fatal(err)
	}
	if got := c.servers[1].dig("other.example.org", "A"); got != "192.0.2.77" || c.servers[1].status(t).DataDigest != other.Digest() {
		t.Errorf("after the other operator's commit: other.example.org = %q", got)
	}
}

// Another rollout (from any host) commits on one server while ours waits
// at the prompt: its "before" digest no longer matches there, the stage is
// refused with 409, and nothing changes anywhere — our rollout does not
// silently revert theirs.
func TestDataChangedAfterDiffRefused(t *testing.T) {
	c := newCluster(t)
	c.change(t, true)
	lock := filepath.Join(t.TempDir(), "lock")
	run := startAtPrompt(t, "--data", c.src, "--servers", c.list(), "--lock", lock)
	other := stageOther(t, c.servers[2], "other-host")
	if _, err := c.servers[2].client().Commit(context.Background(), "other-host"); err != nil {
		t.Fatal(err)
	}
	before := make([]string, 3)
	for i, s := range c.servers {
		before[i] = s.status(t).DataDigest
	}
	err := run.confirm()
	out, errOut := &run.out, &run.errOut
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v:\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String(), "changed since the diff was computed") || !strings.Contains(errOut.String(), "nothing was changed") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
	for i, s := range c.servers {
		st := s.status(t)
		if st.DataDigest != before[i] || st.Staged != nil {
			t.Errorf("server %d: digest %s (before %s), staged %+v", i, st.DataDigest, before[i], st.Staged)
		}
	}
	if before[2] != other.Digest() {
		t.Error("the other rollout's data is not what server 2 serves")
	}
}

// A server dies between the diff and the stage (while the rollout waits
// for confirmation): the stage fails there, the others abort, and nothing
// changes anywhere.
func TestServerDiesAfterDiffChangesNone(t *testing.T) {
	c := newCluster(t)
	c.change(t, true)
	lock := filepath.Join(t.TempDir(), "lock")
	run := startAtPrompt(t, "--data", c.src, "--servers", c.list(), "--lock", lock, "--timeout", "5s")
	before := make([]string, 2)
	for i, s := range c.servers[:2] {
		before[i] = s.status(t).DataDigest
	}
	c.servers[2].Stop()
	err := run.confirm()
	out, errOut := &run.out, &run.errOut
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v:\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String(), "aborted everywhere, nothing was changed") || strings.Count(out.String(), "aborted") != 2 {
		t.Errorf("output:\n%s%s", out.String(), errOut.String())
	}
	for i, s := range c.servers[:2] {
		st := s.status(t)
		if st.DataDigest != before[i] || st.Staged != nil {
			t.Errorf("server %d: digest %s (before %s), staged %+v", i, st.DataDigest, before[i], st.Staged)
		}
		if got := s.dig("rolled.example.org", "A"); got != "" {
			t.Errorf("server %d serves the aborted data: %q", i, got)
		}
	}
}

// promptRun is an authdns-update waiting at its confirmation prompt.
type promptRun struct {
	cmd         *exec.Cmd
	stdin       io.WriteCloser
	out, errOut testutil.SyncBuffer
}

// startAtPrompt starts authdns-update with args and returns once it asks
// for confirmation; the process is killed at the end of the test if it is
// still running.
func startAtPrompt(t *testing.T, args ...string) *promptRun {
	t.Helper()
	r := &promptRun{cmd: exec.Command(bin("authdns-update"), args...)}
	r.stdin, _ = r.cmd.StdinPipe()
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.errOut
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(r.out.String(), "Type yes") {
		if time.Now().After(deadline) {
			t.Fatalf("no confirmation prompt:\n%s%s", r.out.String(), r.errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

// confirm answers yes and waits for the process to exit.
func (r *promptRun) confirm() error {
	r.stdin.Write([]byte("yes\n"))
	r.stdin.Close()
	return r.cmd.Wait()
}
