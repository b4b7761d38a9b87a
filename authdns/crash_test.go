package authdns

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// crashSetup makes a server directory: authdns.yaml, the live data set
// (a directory, or a symlink to one, as mode says) holding serial 1, a
// zone the new set drops and a dotfile, and src, the set to roll out.
func crashSetup(t *testing.T, mode string) string {
	t.Helper()
	dir := t.TempDir()
	live := filepath.Join(dir, "data")
	if mode == "symlink" {
		live = filepath.Join(dir, "releases", "r1")
		if err := os.Symlink("releases/r1", filepath.Join(dir, "data")); err != nil {
			t.Fatal(err)
		}
	}
	writeData(t, live, 1, "")
	os.WriteFile(filepath.Join(live, "zones", "example.net"), []byte(strings.ReplaceAll(zoneText(1, ""), "www", "old")), 0o644)
	os.WriteFile(filepath.Join(live, ".keep"), []byte("an operator's note\n"), 0o644)
	writeData(t, filepath.Join(dir, "src"), 2, "new IN A 192.0.2.2\n")
	os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte("listen: [\"127.0.0.1:0\"]\ndata: data\nudp_sockets: 1\n"), 0o644)
	return dir
}

// startAt starts the daemon of a crashSetup directory.
func startAt(t *testing.T, dir string) *Daemon {
	t.Helper()
	d := startDaemonAt(t, filepath.Join(dir, "authdns.yaml"), quietLog())
	return d
}

func stageAndCommit(t *testing.T, d *Daemon, dir string) error {
	t.Helper()
	b, err := ReadBundle(filepath.Join(dir, "src"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.StageRequest(&StageRequest{ID: "crash", Before: d.Status().DataDigest, Bundle: *b}); err != nil {
		return err
	}
	return d.Commit("crash")
}

func digestOf(t *testing.T, dir string) string {
	t.Helper()
	b, err := ReadBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b.Digest()
}

// TestCrashHelper is the server killed mid-commit: run only as a child of
// TestCommitSurvivesAKillAtEveryStep, it kills itself with SIGKILL at the
// step that test names.
func TestCrashHelper(t *testing.T) {
	dir, step := os.Getenv("AUTHDNS_CRASH_DIR"), os.Getenv("AUTHDNS_CRASH_STEP")
	if dir == "" {
		t.Skip("a child of TestCommitSurvivesAKillAtEveryStep")
	}
	d := startAt(t, dir)
	d.failpoint = func(s string) {
		if s == step {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // until the signal lands
		}
	}
	err := stageAndCommit(t, d, dir)
	t.Fatalf("step %q never came (commit: %v)", step, err)
}

// The server is killed between every two steps of a stage and commit (each
// step a normal commit goes through, in both layouts): restarted, it serves
// and holds on disk exactly the old set before the switch and the new one
// from it on, dotfiles kept, nothing left beside it, and takes the next
// rollout.
func TestCommitSurvivesAKillAtEveryStep(t *testing.T) {
	for _, mode := range []string{"directory", "symlink"} {
		t.Run(mode, func(t *testing.T) {
			steps := commitSteps(t, mode)
			switched := slices.Index(steps, "switched")
			if switched < 0 || (mode == "symlink") != slices.Contains(steps, "linked") {
				t.Fatalf("steps %v", steps)
			}
			for i, step := range steps {
				t.Run(step, func(t *testing.T) {
					dir := crashSetup(t, mode)
					old, next := digestOf(t, filepath.Join(dir, "data")), digestOf(t, filepath.Join(dir, "src"))
					killAt(t, dir, step)
					want, answer := old, "NXDOMAIN"
					if i >= switched {
						want, answer = next, "192.0.2.2"
					}
					d := startAt(t, dir)
					if got := digestOf(t, filepath.Join(dir, "data")); got != want {
						t.Errorf("on disk: %s, want %s (old %s, new %s)", short(got), short(want), short(old), short(next))
					}
					if got := d.Status().DataDigest; got != want {
						t.Errorf("served: %s, want %s", short(got), short(want))
					}
					if got := askA(t, d, "new.example.com."); got != answer {
						t.Errorf("new.example.com = %s, want %s", got, answer)
					}
					checkLayout(t, dir, mode)
					writeData(t, filepath.Join(dir, "src"), 3, "")
					if err := stageAndCommit(t, d, dir); err != nil {
						t.Fatalf("the next rollout: %v", err)
					}
					checkLayout(t, dir, mode)
				})
			}
		})
	}
}

// commitSteps runs a stage and commit that is not interrupted and returns
// the steps it went through.
func commitSteps(t *testing.T, mode string) []string {
	t.Helper()
	dir := crashSetup(t, mode)
	d := startAt(t, dir)
	var steps []string
	d.failpoint = func(s string) { steps = append(steps, s) }
	if err := stageAndCommit(t, d, dir); err != nil {
		t.Fatal(err)
	}
	return steps
}

// killAt runs TestCrashHelper in a child process that dies at step.
func killAt(t *testing.T, dir, step string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "AUTHDNS_CRASH_DIR="+dir, "AUTHDNS_CRASH_STEP="+step)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the child was not killed: %v\n%s", err, out)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended otherwise than by SIGKILL at %s: %v\n%s", step, err, out)
	}
}

// checkLayout: the data path keeps its kind, the dotfile is carried, and
// nothing of ours is left beside it.
func checkLayout(t *testing.T, dir, mode string) {
	t.Helper()
	live := filepath.Join(dir, "data")
	fi, err := os.Lstat(live)
	if err != nil || (fi.Mode()&os.ModeSymlink != 0) != (mode == "symlink") {
		t.Errorf("%s is no longer a %s: %v %v", live, mode, fi.Mode(), err)
	}
	if b, err := os.ReadFile(filepath.Join(live, ".keep")); err != nil || string(b) != "an operator's note\n" {
		t.Errorf("the dotfile was lost: %q %v", b, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".data.*"))
	if target, err := os.Readlink(live); err == nil {
		left = slices.DeleteFunc(left, func(p string) bool { return filepath.Base(p) == target })
	}
	if len(left) != 0 {
		t.Errorf("left beside the data directory: %v", left)
	}
}

// An operator's admin_state edit that lands in the old set while the
// commit switches sets (after its first check) switches the old set back:
// the commit is refused with the line, and the edit is kept on disk.
func TestCommitUndoneWhenAdminStateChangesDuringIt(t *testing.T) {
	for _, mode := range []string{"directory", "symlink"} {
		t.Run(mode, func(t *testing.T) {
			dir := crashSetup(t, mode)
			d := startAt(t, dir)
			old := digestOf(t, filepath.Join(dir, "data"))
			admin := filepath.Join(dir, "data", "admin_state")
			d.failpoint = func(s string) {
				if s == "dotfiles" { // checked, not yet switched
					replaceFile(t, admin, "site/dc1 => DOWN\n")
				}
			}
			err := stageAndCommit(t, d, dir)
			var conflict *ConflictError
			if !errors.As(err, &conflict) || !strings.Contains(err.Error(), admin+":1: + site/dc1 => DOWN") {
				t.Fatalf("commit: %v", err)
			}
			if b, _ := os.ReadFile(admin); string(b) != "site/dc1 => DOWN\n" {
				t.Errorf("the operator's edit is gone: %q", b)
			}
			if got := askA(t, d, "new.example.com."); got != "NXDOMAIN" {
				t.Errorf("the refused set is served: %s", got)
			}
			replaceFile(t, admin, "")
			if got := digestOf(t, filepath.Join(dir, "data")); got != old {
				t.Errorf("the old set was not switched back whole")
			}
			checkLayout(t, dir, mode)
		})
	}
}
