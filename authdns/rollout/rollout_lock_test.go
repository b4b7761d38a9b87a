package rollout

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The lock file is made for every operator of the host: mode 0666 whatever
// the umask, and lockable through a read-only open when it is not ours to
// write.
func TestLockFileSharedBetweenOperators(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "authdns-update.lock")
	unlock, err := lock(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o666 {
		t.Fatalf("lock file mode %v (%v), want 0666", fi.Mode().Perm(), err)
	}
	if _, err := lock(path); err == nil || !strings.Contains(err.Error(), "another rollout is running on this host") {
		t.Fatalf("second lock: %v", err)
	}
	unlock()

	// Another operator's lock file we cannot write: still a lock.
	os.Chmod(path, 0o444)
	unlock, err = lock(path)
	if err != nil {
		t.Fatalf("read-only lock file: %v", err)
	}
	if _, err := lock(path); err == nil {
		t.Fatal("a read-only lock file did not exclude a second rollout")
	}
	unlock()
}
