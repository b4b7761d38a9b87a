package filewatch

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// start runs w until the test ends.
func start(t *testing.T, w *Watcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// Files in two directories: both are watched, and a change to either is
// reported; Check runs once the watch is in place.
func TestTwoDirectories(t *testing.T) {
	a := filepath.Join(t.TempDir(), "a")
	b := filepath.Join(t.TempDir(), "b")
	var changed, checked atomic.Int32
	w := New(Options{Files: []string{a, b}, Log: discard,
		Changed: func() { changed.Add(1) }, Check: func() { checked.Add(1) }})
	start(t, w)
	testutil.WaitFor(t, "the first check", func() bool { return checked.Load() > 0 })
	if !w.Watching() {
		t.Fatal("checked before watching")
	}
	testutil.WriteAtomic(t, a, "1")
	testutil.WaitFor(t, "a change to a", func() bool { return changed.Load() > 0 })
	n := changed.Load()
	if err := os.WriteFile(b, []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "a change to b", func() bool { return changed.Load() > n })
}

// AnyName reports a change to any entry of the directory: a ConfigMap's
// symlink swap changes "..data", not the file's name.
func TestAnyName(t *testing.T) {
	dir := t.TempDir()
	var changed atomic.Int32
	w := New(Options{Files: []string{filepath.Join(dir, "routing.yaml")}, AnyName: true, Log: discard,
		Changed: func() { changed.Add(1) }, Check: func() {}})
	start(t, w)
	testutil.WaitFor(t, "the watch", w.Watching)
	if err := os.Symlink("elsewhere", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the change", func() bool { return changed.Load() > 0 })
}

// Check defaults to Changed, and Rearm re-checks.
func TestRearmChecks(t *testing.T) {
	var calls atomic.Int32
	w := New(Options{Files: []string{filepath.Join(t.TempDir(), "f")}, Log: discard, Changed: func() { calls.Add(1) }})
	start(t, w)
	testutil.WaitFor(t, "the first check", func() bool { return calls.Load() == 1 })
	w.Rearm()
	testutil.WaitFor(t, "the re-check", func() bool { return calls.Load() == 2 })
	testutil.WaitFor(t, "the watch again", w.Watching)
}
