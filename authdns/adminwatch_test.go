package authdns

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// The admin_state file's directory does not exist when authdns starts:
// authdns serves, says the watch is retrying, and a reload (SIGHUP) applies
// a DOWN written once the directory appears, and re-arms the watch.
func TestAdminStateDirectoryMissingAtStart(t *testing.T) {
	dir := t.TempDir()
	writeData(t, filepath.Join(dir, "data"), 1, "")
	cfg := "listen: [\"127.0.0.1:0\"]\nudp_sockets: 1\nzones: data/zones\ngeoip: data/geoip.yaml\n" +
		"admin_state: state/admin_state\n"
	os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte(cfg), 0o644)
	d := startDaemonAt(t, filepath.Join(dir, "authdns.yaml"), quietLog())
	if got := d.Status().AdminStateWatch; got != "retrying" {
		t.Errorf("admin_state_watch = %q with the directory missing, want retrying", got)
	}

	state := filepath.Join(dir, "state")
	os.Mkdir(state, 0o755)
	os.WriteFile(filepath.Join(state, "admin_state"), []byte("site/dc1 => DOWN\n"), 0o644)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if e, ok := d.State().Admin.Lookup("site/dc1"); !ok || !e.Down {
		t.Fatal("a DOWN written after the directory appeared is not in force after a reload")
	}
	testutil.WaitFor(t, "the condition", func() bool { return d.Status().AdminStateWatch == "watching" })

	// Watched again: an edit applies without a reload.
	os.WriteFile(filepath.Join(state, ".tmp"), []byte("site/dc2 => DOWN\n"), 0o644)
	os.Rename(filepath.Join(state, ".tmp"), filepath.Join(state, "admin_state"))
	testutil.WaitFor(t, "the condition", func() bool { e, ok := d.State().Admin.Lookup("site/dc2"); return ok && e.Down })
}
