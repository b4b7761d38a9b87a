package adminstate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Run watches until ctx ends; it returns nil then. While the directory
// cannot be watched it re-reads the file every retry interval and tries the
// watch again, so a state written meanwhile is applied and the watch heals
// by itself; Rearm makes it try at once.
func (w *Watcher) Run(ctx context.Context) error {
	l := &watchLoop{w: w, dir: filepath.Clean(filepath.Dir(w.path)), base: filepath.Base(w.path)}
	defer l.disarm()
	if l.arm() {
		// Written between NewWatcher's read and the watch: not seen yet.
		w.reloadIfChanged()
	}
	var tick <-chan time.Time
	if w.poll > 0 {
		t := time.NewTicker(w.poll)
		defer t.Stop()
		tick = t.C
	}
	retry := time.NewTicker(w.retry)
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
			_ = w.Reload()
		case <-tick:
			w.reloadIfChanged()
		case <-retry.C:
			if l.fw == nil {
				l.arm()
				w.reloadIfChanged()
			}
		case <-w.rearm:
			l.disarm()
			l.arm()
			w.reloadIfChanged()
		}
	}
}

// watchLoop is Run's state: the directory watch of the moment (nil while
// it cannot be set up) and the debounce timer.
type watchLoop struct {
	w         *Watcher
	dir, base string
	fw        *fsnotify.Watcher
	failing   bool // the last attempt to watch failed (logged once)
	timer     *time.Timer
	fire      <-chan time.Time
}

func (l *watchLoop) events() <-chan fsnotify.Event {
	if l.fw == nil {
		return nil // blocks: nothing to read while not watching
	}
	return l.fw.Events
}

func (l *watchLoop) errors() <-chan error {
	if l.fw == nil {
		return nil
	}
	return l.fw.Errors
}

// arm sets up a new directory watch and reports whether it works. A
// failure is logged once until a watch works again.
func (l *watchLoop) arm() bool {
	fw, err := l.w.newWatch(l.dir)
	if err != nil {
		if !l.failing {
			l.w.log.Warn("admin_state: cannot watch the directory; re-reading the file every retry interval and trying again",
				"file", l.w.path, "retry", l.w.retry, "err", err)
		}
		l.failing = true
		l.w.watching.Store(false)
		return false
	}
	if l.failing {
		l.w.log.Info("admin_state: watching the directory again", "file", l.w.path)
	}
	l.failing = false
	l.fw = fw
	l.w.watching.Store(true)
	return true
}

func (l *watchLoop) disarm() {
	if l.fw != nil {
		l.fw.Close()
		l.fw = nil
	}
	l.w.watching.Store(false)
}

// lost handles a watch that no longer reports: the directory was removed
// or moved away (a replaced data set), or the watch itself failed. The
// path may already name a new directory, so it tries again at once.
func (l *watchLoop) lost(why string) {
	l.w.log.Warn("admin_state: the directory watch was lost; watching it again", "file", l.w.path, "why", why)
	l.disarm()
	l.arm()
	l.w.reloadIfChanged()
}

func (l *watchLoop) event(ev fsnotify.Event, ok bool) {
	if !ok {
		l.lost("the watch closed")
		return
	}
	if filepath.Clean(ev.Name) == l.dir && ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 {
		l.lost(fmt.Sprintf("the directory itself: %s", ev.Op))
		return
	}
	if filepath.Base(ev.Name) != l.base || ev.Op == fsnotify.Chmod {
		return
	}
	if l.timer == nil {
		l.timer = time.NewTimer(l.w.debounce)
	} else {
		l.timer.Reset(l.w.debounce)
	}
	l.fire = l.timer.C
}

func (l *watchLoop) watchError(err error, ok bool) {
	if !ok {
		l.lost("the watch closed")
		return
	}
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		// Events were dropped: the file may have changed unseen.
		l.w.reloadIfChanged()
	}
	l.w.log.Warn("admin_state: watch error", "file", l.w.path, "err", err)
}

// newWatch watches dir (following a symlink to the directory it names).
func (w *Watcher) newWatch(dir string) (*fsnotify.Watcher, error) {
	if w.failWatch != nil {
		if err := w.failWatch(dir); err != nil {
			return nil, fmt.Errorf("watch %s: %w", dir, err)
		}
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	if err := fw.Add(dir); err != nil {
		fw.Close()
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	return fw, nil
}
