package filewatch

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

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

// Watchers sharing a Hub each hear of their own files, and each heals
// when their directory is removed and made again.
func TestHubShared(t *testing.T) {
	var hub Hub
	t.Cleanup(hub.Close)
	dir := filepath.Join(t.TempDir(), "pools")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	paths := []string{filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(other, "c")}
	counts := make([]atomic.Int32, len(paths))
	ws := make([]*Watcher, len(paths))
	for i, p := range paths {
		ws[i] = New(Options{Files: []string{p}, Hub: &hub, Retry: 10 * time.Millisecond, Log: discard,
			Changed: func() { counts[i].Add(1) }}) // Check too: told either way
		start(t, ws[i])
		testutil.WaitFor(t, "the first check of "+p, func() bool { return counts[i].Load() == 1 })
	}
	changes := func(when string) {
		t.Helper()
		for i, p := range paths {
			n := counts[i].Load()
			testutil.WriteAtomic(t, p, when)
			testutil.WaitFor(t, when+": a change to "+p, func() bool { return counts[i].Load() > n })
		}
	}
	changes("first")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range ws {
		testutil.WaitFor(t, "the watch again", ws[i].Watching)
	}
	changes("after the directory was made again")
	hub.mu.Lock()
	n := len(hub.subs)
	hub.mu.Unlock()
	if n != len(paths) {
		t.Errorf("%d subscriptions, want %d", n, len(paths))
	}
}
