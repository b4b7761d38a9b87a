package authdns

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// A reload builds its state without the state lock: an admin_state drain
// written while it builds is served at once, and is still served once
// the reload's state is swapped in.
func TestReloadBuildsWithoutTheStateLock(t *testing.T) {
	d, dir := testDaemon(t, "")
	admin := filepath.Join(dir, "data", "admin_state")
	d.failpoint = func(step string) {
		if step != "reload-built" {
			return
		}
		replaceFile(t, admin, "site/dc1 => DOWN\n")
		testutil.WaitFor(t, "the drain written during the reload", func() bool {
			e, ok := d.State().Admin.Lookup("site/dc1")
			return ok && e.Down
		})
	}
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if e, ok := d.State().Admin.Lookup("site/dc1"); !ok || !e.Down {
		t.Errorf("after the reload site/dc1 = %+v (found %v): the drain written during its build was lost", e, ok)
	}
}

// A reload still building when the daemon shuts down is dropped.
func TestReloadDuringShutdownIsDropped(t *testing.T) {
	d, _ := testDaemon(t, "")
	d.failpoint = func(step string) {
		if step == "reload-built" {
			d.Shutdown(context.Background())
		}
	}
	if err := d.Reload(); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("reload across a shutdown: %v", err)
	}
}
