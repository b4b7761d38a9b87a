package adminstate

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geotraffic/geotraffic/internal/filewatch"
)

// Source is what consumers of admin_state need: the state now in force.
type Source interface {
	Current() *State
}

// Static is a Source that never changes; for tests and one-shot tools.
type Static struct{ S *State }

// Current returns the fixed state.
func (s Static) Current() *State { return s.S }

// Watcher keeps the last good parse of one admin_state file, re-read when
// internal/filewatch says it may have changed. A directory that cannot be
// watched (missing, unreadable, removed or moved away later) does not stop
// it: it re-reads the file and tries again until the watch works.
type Watcher struct {
	path     string
	log      *slog.Logger
	fw       filewatch.Options
	onChange func(old, new *State)
	onError  func(error)
	cur      atomic.Pointer[State]
	watch    *filewatch.Watcher

	mu   sync.Mutex // serialises Reload
	seen string     // digest of the bytes Reload last read, good or bad
}

// WatcherOption configures a Watcher.
type WatcherOption func(*Watcher)

// WithDebounce sets how long the watcher waits for a burst of events to end
// (default 20 ms: one save emits several events, and we want one reload).
func WithDebounce(d time.Duration) WatcherOption { return func(w *Watcher) { w.fw.Debounce = d } }

// WithPoll sets the safety-net re-read interval for filesystems without
// inotify (NFS, FUSE); default 5 s, 0 disables.
func WithPoll(d time.Duration) WatcherOption { return func(w *Watcher) { w.fw.Poll = d } }

// WithRetry sets how often, while the directory cannot be watched, the
// watcher re-reads the file and tries to watch it again (default 1 s).
func WithRetry(d time.Duration) WatcherOption { return func(w *Watcher) { w.fw.Retry = d } }

// OnChange is called after a new state is swapped in (old may be empty).
func OnChange(f func(old, new *State)) WatcherOption { return func(w *Watcher) { w.onChange = f } }

// OnError is called when a changed file is rejected; the old state stays.
func OnError(f func(error)) WatcherOption { return func(w *Watcher) { w.onError = f } }

// DefaultRetry is how often a watcher whose directory cannot be watched
// re-reads the file and tries again.
const DefaultRetry = filewatch.DefaultRetry

// NewWatcher loads path once and returns a watcher holding that state. A
// bad file at start is an error: the caller decides whether to refuse to
// start (authdns does, as gdnsd checkconf would). A missing directory is
// not: the file reads as empty and Run waits for the directory.
func NewWatcher(path string, log *slog.Logger, opts ...WatcherOption) (*Watcher, error) {
	w := &Watcher{path: path, log: log, fw: filewatch.Options{Poll: 5 * time.Second}}
	for _, o := range opts {
		o(w)
	}
	w.fw.Files, w.fw.Log, w.fw.Name = []string{path}, log, "admin_state"
	w.fw.Changed = func() { _ = w.Reload() }
	w.fw.Check = w.reloadIfChanged
	st, err := Load(path)
	if err != nil {
		return nil, err
	}
	w.cur.Store(st)
	w.seen = st.Digest
	w.watch = filewatch.New(w.fw)
	return w, nil
}

// Current returns the state in force; never nil.
func (w *Watcher) Current() *State { return w.cur.Load() }

// Path is the watched file.
func (w *Watcher) Path() string { return w.path }

// Watching reports whether the directory watch is in place; false while
// Run re-reads the file every retry interval instead.
func (w *Watcher) Watching() bool { return w.watch.Watching() }

// Rearm asks Run to drop its directory watch, set up a new one and re-read
// the file: after the directory was replaced (a rollout switching data
// sets, an operator re-pointing a symlink), and on SIGHUP. It never blocks.
func (w *Watcher) Rearm() { w.watch.Rearm() }

// Run watches until ctx ends; it returns nil then. While the directory
// cannot be watched it re-reads the file every retry interval and tries the
// watch again, so a state written meanwhile is applied and the watch heals
// by itself; Rearm makes it try at once.
func (w *Watcher) Run(ctx context.Context) error { return w.watch.Run(ctx) }

// Reload re-reads the file now. On error the current state is kept.
func (w *Watcher) Reload() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	data, err := readFile(w.path)
	var st *State
	if err == nil {
		w.seen = digest(data)
		st, err = Parse(w.path, data)
	}
	if err != nil {
		w.log.Error("admin_state: file had errors; all contents were ignored and current forced states are unaffected",
			"file", w.path, "err", err)
		if w.onError != nil {
			w.onError(err)
		}
		return err
	}
	old := w.cur.Load()
	if old != nil && old.Digest == st.Digest {
		return nil
	}
	w.cur.Store(st)
	changes := Diff(old, st)
	for _, c := range changes {
		w.log.Info("admin_state: "+c, "file", w.path)
	}
	w.log.Info("admin_state: load complete", "file", w.path, "entries", st.Len(), "changes", len(changes))
	if w.onChange != nil {
		w.onChange(old, st)
	}
	return nil
}

// reloadIfChanged re-reads the file only when its bytes differ from what
// Reload last read, so polling neither re-parses an unchanged file nor
// reports the same bad file again every tick.
func (w *Watcher) reloadIfChanged() {
	data, err := readFile(w.path)
	if err != nil {
		return // unreadable now; an event or a later tick will retry
	}
	w.mu.Lock()
	changed := digest(data) != w.seen
	w.mu.Unlock()
	if changed {
		_ = w.Reload()
	}
}

// Diff describes how the forced entries changed, one line per pattern, in
// gdnsd's words, for the log.
func Diff(old, new *State) []string {
	last := func(s *State) map[string]Entry {
		m := map[string]Entry{}
		if s != nil {
			for _, e := range s.Entries {
				m[e.Pattern] = e
			}
		}
		return m
	}
	o, n := last(old), last(new)
	var out []string
	if new != nil {
		seen := map[string]bool{}
		for _, e := range new.Entries {
			if seen[e.Pattern] {
				continue
			}
			seen[e.Pattern] = true
			ne := n[e.Pattern]
			oe, had := o[e.Pattern]
			switch {
			case !had:
				out = append(out, fmt.Sprintf("state of '%s' forced to %s", e.Pattern, ne.StateString()))
			case oe.StateString() != ne.StateString():
				out = append(out, fmt.Sprintf("state of '%s' re-forced from %s to %s", e.Pattern, oe.StateString(), ne.StateString()))
			}
		}
	}
	if old != nil {
		seen := map[string]bool{}
		for _, e := range old.Entries {
			if _, still := n[e.Pattern]; still || seen[e.Pattern] {
				continue
			}
			seen[e.Pattern] = true
			out = append(out, fmt.Sprintf("state of '%s' no longer forced (was forced to %s)", e.Pattern, o[e.Pattern].StateString()))
		}
	}
	return out
}
