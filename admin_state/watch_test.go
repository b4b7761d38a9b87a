package adminstate

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

func TestWatcherRenameWriteBadAndRemove(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin_state")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	errs := make(chan error, 10)
	w, err := NewWatcher(path, log, WithPoll(0), OnError(func(e error) { errs <- e }))
	if err != nil {
		t.Fatal(err)
	}
	if w.Current().Len() != 0 {
		t.Fatal("missing file must be empty")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	testutil.WaitFor(t, "the watch", w.Watching)

	down := func(key string) func() bool {
		return func() bool { e, ok := w.Current().Lookup(key); return ok && e.Down }
	}
	// Atomic rename, as editors and authdns-update do.
	testutil.WriteAtomic(t, path, "site/esams => DOWN\n")
	testutil.WaitFor(t, "rename to take effect", down("site/esams"))

	// In-place write.
	os.WriteFile(path, []byte("site/eqiad => DOWN\n"), 0o644)
	testutil.WaitFor(t, "in-place write to take effect", down("site/eqiad"))

	// A bad file is rejected whole; the previous state stays.
	os.WriteFile(path, []byte("site/codfw => DOWN\nbroken line\n"), 0o644)
	select {
	case <-errs:
	case <-time.After(10 * time.Second):
		t.Fatal("no error reported for bad file")
	}
	if !down("site/eqiad")() || down("site/codfw")() {
		t.Fatal("bad file must not change the state")
	}

	// Removing the file clears forced states.
	os.Remove(path)
	testutil.WaitFor(t, "removal to clear state", func() bool { return w.Current().Len() == 0 })
}

// A bad file left in place is reported when it appears, not again on every
// poll tick (the old state stays in force throughout).
func TestWatcherPollReportsABadFileOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin_state")
	os.WriteFile(path, []byte("site/esams => DOWN\n"), 0o644)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var errs atomic.Int32
	w, err := NewWatcher(path, log, WithPoll(10*time.Millisecond), OnError(func(error) { errs.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	testutil.WaitFor(t, "the watch", w.Watching)

	// By rename: an in-place write can be caught truncated, which is a valid
	// empty file, and this test is about the poll, not that race.
	testutil.WriteAtomic(t, path, "not valid\n")
	testutil.WaitFor(t, "the bad file to be reported", func() bool { return errs.Load() > 0 })
	time.Sleep(200 * time.Millisecond) // 20 poll ticks
	// One report per write event burst; re-reporting on each tick would give ~20.
	if n := errs.Load(); n > 3 {
		t.Fatalf("the same bad file was reported %d times", n)
	}
	if e, ok := w.Current().Lookup("site/esams"); !ok || !e.Down {
		t.Fatal("the previous state must stay in force")
	}
	// A later good file is still picked up.
	os.WriteFile(path, []byte("site/eqiad => DOWN\n"), 0o644)
	testutil.WaitFor(t, "the good file", func() bool { e, ok := w.Current().Lookup("site/eqiad"); return ok && e.Down })
}
