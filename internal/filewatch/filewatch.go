// Package filewatch tells its caller when watched files may have changed:
// it watches their directories through inotify (fsnotify), turns a burst of
// events into one call, re-checks on a timer for filesystems without
// inotify, and while a directory cannot be watched (missing, unreadable,
// removed or moved away later) re-checks every retry interval and tries
// the watch again, so it heals without a restart. It never reads the
// files: reading, parsing and keeping the last good contents stay with the
// caller.
package filewatch

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults for the Options durations left at zero.
const (
	DefaultDebounce = 20 * time.Millisecond
	DefaultRetry    = time.Second
)

// Options configure a Watcher.
type Options struct {
	// Files are watched through their directories: editors and tools
	// replace files by rename, and a watch on the file itself would die
	// with the old inode.
	Files []string
	// AnyName makes any change in the directories count, not only to the
	// files' own names: a symlink swap (Kubernetes ConfigMaps) changes
	// another entry.
	AnyName bool
	// Debounce is how long a burst of events must be quiet before Changed
	// is called (default 20 ms: one save emits several events).
	Debounce time.Duration
	// Poll calls Check this often whatever the watch says (0 disables).
	Poll time.Duration
	// Retry is how often, while the watch cannot be set up, Check is
	// called and the watch tried again (default 1 s).
	Retry time.Duration
	// Log hears the watch failing, healing and erring; Name prefixes its
	// messages ("admin_state: cannot watch the directory...").
	Log  *slog.Logger
	Name string
	// Changed is called after a burst of events: the files changed.
	Changed func()
	// Check is called when the files may have changed unseen (a poll or
	// retry tick, the watch set up again, events dropped): the caller
	// re-reads them if their contents differ from the last read.
	Check func()
	// Hub, when set, shares its inotify instance with other Watchers
	// instead of each making one.
	Hub *Hub
	// FailWatch, when set (by tests), fails setting up the watch of dir
	// while it returns an error (an unreadable directory, as root).
	FailWatch func(dir string) error
}

// Watcher runs one watch; all callbacks come from Run's goroutine.
type Watcher struct {
	o        Options
	dirs     []string
	names    map[string]bool // the files' cleaned paths under dirs
	watching atomic.Bool
	rearm    chan struct{} // Rearm's request to Run, one pending at most
}

// New returns a watcher for o; Run starts it.
func New(o Options) *Watcher {
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Retry <= 0 {
		o.Retry = DefaultRetry
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Changed == nil {
		o.Changed = func() {}
	}
	if o.Check == nil {
		o.Check = o.Changed
	}
	w := &Watcher{o: o, names: map[string]bool{}, rearm: make(chan struct{}, 1)}
	seen := map[string]bool{}
	for _, f := range o.Files {
		d := filepath.Clean(filepath.Dir(f))
		w.names[filepath.Join(d, filepath.Base(f))] = true
		if !seen[d] {
			seen[d] = true
			w.dirs = append(w.dirs, d)
		}
	}
	return w
}

// Watching reports whether the directory watch is in place; false while
// Run re-checks every retry interval instead.
func (w *Watcher) Watching() bool { return w.watching.Load() }

// Rearm asks Run to drop its watch, set up a new one and call Check: after
// a directory was replaced (a rollout switching data sets, an operator
// re-pointing a symlink), and on SIGHUP. It never blocks.
func (w *Watcher) Rearm() {
	select {
	case w.rearm <- struct{}{}:
	default: // one request is already pending; it covers this one
	}
}

// Run watches until ctx ends, then returns nil. The caller has read the
// files before: Run calls Check once the watch is set up, for a change
// made in between.
func (w *Watcher) Run(ctx context.Context) error {
	l := &loop{w: w}
	defer l.disarm()
	if l.arm() {
		w.o.Check()
	}
	var tick <-chan time.Time
	if w.o.Poll > 0 {
		t := time.NewTicker(w.o.Poll)
		defer t.Stop()
		tick = t.C
	}
	retry := time.NewTicker(w.o.Retry)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-l.events():
			l.event(ev, ok)
		case err, ok := <-l.errors():
			l.watchError(err, ok)
		case <-l.fire:
			l.fire = nil
			w.o.Changed()
		case <-tick:
			w.o.Check()
		case <-retry.C:
			if l.fw == nil {
				l.arm()
				w.o.Check()
			}
		case <-w.rearm:
			l.disarm()
			l.arm()
			w.o.Check()
		}
	}
}

// logAttrs names the watched files in every log line.
func (w *Watcher) logAttrs(args ...any) []any {
	return append([]any{"file", strings.Join(w.o.Files, ", ")}, args...)
}

func (w *Watcher) msg(s string) string {
	if w.o.Name == "" {
		return s
	}
	return w.o.Name + ": " + s
}
