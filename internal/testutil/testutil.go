// Package testutil holds the helpers tests share, unit and end-to-end
// alike: waiting for a condition, replacing a file atomically, copying a
// tree, a log buffer safe to read while others write it, free ports, and
// a child process under test. It is imported only by tests.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// WaitBound bounds every WaitFor: it only stops a failing test, and
// asserts no speed.
const WaitBound = 30 * time.Second

// WaitFor polls cond until it holds, and fails the test if it does not
// within WaitBound.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WriteAtomic replaces path by writing a hidden temporary file next to it
// and renaming it, as editors and authdns-update do.
func WriteAtomic(t testing.TB, path, data string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// CopyTree copies the files under src to dst, creating directories.
func CopyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
