package rollout

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The lock file is made for every operator of the host: mode 0644 whatever
// the umask, and lockable through a read-only open when it is not ours to
// write.
func TestLockFileSharedBetweenOperators(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "authdns-update.lock")
	unlock, err := lock(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("lock file mode %v (%v), want 0644", fi.Mode().Perm(), err)
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

// A symlink (or anything but a regular file) where the lock file goes, as
// another user could plant in /tmp, is refused: its target is neither
// created nor truncated.
func TestLockFileNeverFollowsASymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o644)
	for _, tc := range []struct {
		name   string
		make   func(path string) error
		errHas string
	}{
		{"to a file", func(p string) error { return os.Symlink(victim, p) }, "symlink"},
		{"dangling", func(p string) error { return os.Symlink(filepath.Join(dir, "created"), p) }, "symlink"},
		{"a FIFO", func(p string) error { return syscall.Mkfifo(p, 0o644) }, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".lock")
			if err := tc.make(path); err != nil {
				t.Fatal(err)
			}
			if _, err := lock(path); err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("lock through %s: %v", tc.name, err)
			}
		})
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the symlink's target was written: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "created")); !os.IsNotExist(err) {
		t.Errorf("the dangling symlink's target was created: %v", err)
	}
}
