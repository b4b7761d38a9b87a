package filewatch

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// dirWatch is a watch of the Watcher's directories: an inotify instance of
// its own, or a share of a Hub's.
type dirWatch interface {
	events() <-chan fsnotify.Event
	errors() <-chan error
	close()
}

// own is a dirWatch with its own inotify instance.
type own struct{ fw *fsnotify.Watcher }

func (o own) events() <-chan fsnotify.Event { return o.fw.Events }
func (o own) errors() <-chan error          { return o.fw.Errors }
func (o own) close()                        { o.fw.Close() }

// loop is Run's state: the watch of the moment (nil while it cannot be set
// up) and the debounce timer.
type loop struct {
	w       *Watcher
	fw      dirWatch
	failing bool // the last attempt to watch failed (logged once)
	timer   *time.Timer
	fire    <-chan time.Time
}

func (l *loop) events() <-chan fsnotify.Event {
	if l.fw == nil {
		return nil // blocks: nothing to read while not watching
	}
	return l.fw.events()
}

func (l *loop) errors() <-chan error {
	if l.fw == nil {
		return nil
	}
	return l.fw.errors()
}

// arm sets up a new watch and reports whether it works. A failure is
// logged once until a watch works again.
func (l *loop) arm() bool {
	w := l.w
	fw, err := w.newWatch()
	if err != nil {
		if !l.failing {
			w.o.Log.Warn(w.msg("cannot watch the directory; re-reading the file every retry interval and trying again"),
				w.logAttrs("retry", w.o.Retry, "err", err)...)
		}
		l.failing = true
		w.watching.Store(false)
		return false
	}
	if l.failing {
		w.o.Log.Info(w.msg("watching the directory again"), w.logAttrs()...)
	}
	l.failing = false
	l.fw = fw
	w.watching.Store(true)
	return true
}

func (l *loop) disarm() {
	if l.fw != nil {
		l.fw.close()
		l.fw = nil
	}
	l.w.watching.Store(false)
}

// lost handles a watch that no longer reports: a directory was removed or
// moved away (a replaced data set), or the watch itself failed. The path
// may already name a new directory, so it tries again at once.
func (l *loop) lost(why string) {
	w := l.w
	w.o.Log.Warn(w.msg("the directory watch was lost; watching it again"), w.logAttrs("why", why)...)
	l.disarm()
	l.arm()
	w.o.Check()
}

func (l *loop) event(ev fsnotify.Event, ok bool) {
	if !ok {
		l.lost("the watch closed")
		return
	}
	name := filepath.Clean(ev.Name)
	if ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 && l.isDir(name) {
		l.lost(fmt.Sprintf("the directory itself: %s", ev.Op))
		return
	}
	if ev.Op == fsnotify.Chmod || (!l.w.o.AnyName && !l.w.names[name]) {
		return
	}
	if l.timer == nil {
		l.timer = time.NewTimer(l.w.o.Debounce)
	} else {
		l.timer.Reset(l.w.o.Debounce)
	}
	l.fire = l.timer.C
}

func (l *loop) isDir(name string) bool {
	for _, d := range l.w.dirs {
		if d == name {
			return true
		}
	}
	return false
}

func (l *loop) watchError(err error, ok bool) {
	w := l.w
	if !ok {
		l.lost("the watch closed")
		return
	}
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		// Events were dropped: the files may have changed unseen.
		w.o.Check()
	}
	w.o.Log.Warn(w.msg("watch error"), w.logAttrs("err", err)...)
}

// newWatch watches every directory (following a symlink to the directory
// it names); all or none.
func (w *Watcher) newWatch() (dirWatch, error) {
	if w.o.FailWatch != nil {
		for _, d := range w.dirs {
			if err := w.o.FailWatch(d); err != nil {
				return nil, fmt.Errorf("watch %s: %w", d, err)
			}
		}
	}
	if w.o.Hub != nil {
		s, err := w.o.Hub.watch(w.dirs)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	for _, d := range w.dirs {
		if err := fw.Add(d); err != nil {
			fw.Close()
			return nil, fmt.Errorf("watch %s: %w", d, err)
		}
	}
	return own{fw}, nil
}
