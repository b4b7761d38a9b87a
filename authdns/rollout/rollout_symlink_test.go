package rollout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zones -> ../real/zones validates locally (DIR is read through the
// link) but a bundle does not carry it: refused before anything is sent.
func TestSymlinkedDirectoryRefused(t *testing.T) {
	f := &fakeServer{}
	startFake(t, f)
	dir := dataDir(t)
	real := filepath.Join(t.TempDir(), "real")
	os.MkdirAll(real, 0o755)
	os.Rename(filepath.Join(dir, "zones"), filepath.Join(real, "zones"))
	os.Symlink(filepath.Join(real, "zones"), filepath.Join(dir, "zones"))
	code, out, errOut := runData(t, dir, f)
	if code != ExitFailed || !strings.Contains(errOut, "zones: a symlink to a directory") || !strings.Contains(errOut, "nothing was changed") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if f.staged.Load() != 0 {
		t.Error("the bundle was staged")
	}
}
