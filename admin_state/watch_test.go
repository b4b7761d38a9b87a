package adminstate

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// waitFor polls cond; the deadline only bounds a failing test, it asserts no speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

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
	time.Sleep(50 * time.Millisecond) // let the watch be established

	down := func(key string) func() bool {
		return func() bool { e, ok := w.Current().Lookup(key); return ok && e.Down }
	}
	// Atomic rename, as editors and authdns-update do.
	tmp := filepath.Join(dir, ".admin_state.tmp")
	os.WriteFile(tmp, []byte("site/esams => DOWN\n"), 0o644)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rename to take effect", down("site/esams"))

	// In-place write.
	os.WriteFile(path, []byte("site/eqiad => DOWN\n"), 0o644)
	waitFor(t, "in-place write to take effect", down("site/eqiad"))

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
	waitFor(t, "removal to clear state", func() bool { return w.Current().Len() == 0 })
}
