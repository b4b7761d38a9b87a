package adminstate

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// withFailWatch fails setting up the directory watch while f returns an
// error (an unreadable directory; the tests run as root, which reads any).
func withFailWatch(f func(dir string) error) WatcherOption {
	return func(w *Watcher) { w.fw.FailWatch = f }
}

func isDown(w *Watcher, key string) func() bool {
	return func() bool { e, ok := w.Current().Lookup(key); return ok && e.Down }
}

// A watch that cannot be set up, or is lost, heals: a DOWN written once
// the directory is back is applied without a restart. Poll is off in
// every case, so the 5 s safety net is not what heals it.
func TestWatcherHeals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		retry   time.Duration
		missing bool // the directory does not exist at start
		// failWatch fails the first n watch attempts (an unreadable
		// directory; the tests run as root, which reads any directory).
		failures int32
		// act breaks and mends the directory once the watcher runs, then
		// writes DOWN; it may call Rearm.
		act func(t *testing.T, w *Watcher, dir string)
	}{
		{name: "missing at start, retried", retry: 10 * time.Millisecond, missing: true,
			act: func(t *testing.T, w *Watcher, dir string) {
				os.Mkdir(dir, 0o755)
				testutil.WriteAtomic(t, filepath.Join(dir, "admin_state"), "site/esams => DOWN\n")
			}},
		{name: "missing at start, re-armed", retry: time.Hour, missing: true,
			act: func(t *testing.T, w *Watcher, dir string) {
				os.Mkdir(dir, 0o755)
				testutil.WriteAtomic(t, filepath.Join(dir, "admin_state"), "site/esams => DOWN\n")
				w.Rearm() // as SIGHUP does
			}},
		{name: "unreadable at start", retry: 10 * time.Millisecond, failures: 3,
			act: func(t *testing.T, w *Watcher, dir string) {
				testutil.WriteAtomic(t, filepath.Join(dir, "admin_state"), "site/esams => DOWN\n")
			}},
		{name: "removed and made again", retry: 10 * time.Millisecond,
			act: func(t *testing.T, w *Watcher, dir string) {
				testutil.WaitFor(t, "the watch", w.Watching)
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				os.Mkdir(dir, 0o755)
				testutil.WriteAtomic(t, filepath.Join(dir, "admin_state"), "site/esams => DOWN\n")
			}},
		{name: "replaced by rename", retry: 10 * time.Millisecond,
			act: func(t *testing.T, w *Watcher, dir string) {
				testutil.WaitFor(t, "the watch", w.Watching)
				next := dir + ".next"
				os.Mkdir(next, 0o755)
				os.WriteFile(filepath.Join(next, "admin_state"), []byte("site/esams => DOWN\n"), 0o644)
				if err := os.Rename(dir, dir+".old"); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(next, dir); err != nil {
					t.Fatal(err)
				}
				// The old directory still exists: only the move says the
				// watch now follows the wrong one.
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			if !tc.missing {
				os.Mkdir(dir, 0o755)
			}
			var logs testutil.SyncBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			var fails atomic.Int32
			failWatch := func(string) error {
				if fails.Add(1) <= tc.failures {
					return syscall.EACCES
				}
				return nil
			}
			w, err := NewWatcher(filepath.Join(dir, "admin_state"), log, WithPoll(0), WithRetry(tc.retry), withFailWatch(failWatch))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			defer func() { cancel(); <-done }()
			if tc.missing || tc.failures > 0 {
				// Only once the watch has failed: the directory must not
				// appear before the first attempt.
				testutil.WaitFor(t, "the watch to fail", func() bool { return strings.Contains(logs.String(), "cannot watch the directory") })
			}
			tc.act(t, w, dir)
			testutil.WaitFor(t, "site/esams DOWN", isDown(w, "site/esams"))
			testutil.WaitFor(t, "the watch to work again", w.Watching)
			// Watched again: a later change arrives by event.
			testutil.WriteAtomic(t, filepath.Join(dir, "admin_state"), "site/eqiad => DOWN\n")
			testutil.WaitFor(t, "site/eqiad DOWN", isDown(w, "site/eqiad"))
		})
	}
}

// While the watch keeps failing, the file is re-read every retry
// interval: a state written meanwhile still applies.
func TestWatcherPollsWhileTheWatchFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin_state")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w, err := NewWatcher(path, log, WithPoll(0), WithRetry(10*time.Millisecond),
		withFailWatch(func(string) error { return errors.New("permission denied") }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	testutil.WriteAtomic(t, path, "site/esams => DOWN\n")
	testutil.WaitFor(t, "site/esams DOWN", isDown(w, "site/esams"))
	if w.Watching() {
		t.Error("Watching() with a watch that cannot be set up")
	}
}
