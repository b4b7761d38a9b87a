package filewatch

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// Hub lets many Watchers share one inotify instance: the instances a user
// may hold are few (fs.inotify.max_user_instances, 128 by default, shared
// by all the user's processes), and lvsd watches one pool file per
// service. The zero Hub is ready; its instance is made on first use and
// ends with Close, after its Watchers have stopped.
type Hub struct {
	mu     sync.Mutex
	fw     *fsnotify.Watcher
	dirs   map[string]int // watched directory -> its subscribers
	subs   map[*sub]bool
	closed bool
}

// Close ends the shared instance; Watchers still running see their watch
// lost and cannot set up another.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	fw := h.fw
	h.mu.Unlock()
	if fw != nil {
		fw.Close() // dispatch sees the channels close and ends the subscriptions
	}
}

// sub is one Watcher's share of a Hub: the events of its directories.
type sub struct {
	h    *Hub
	dirs map[string]bool
	evs  chan fsnotify.Event
	errs chan error
}

func (s *sub) events() <-chan fsnotify.Event { return s.evs }
func (s *sub) errors() <-chan error          { return s.errs }

// close gives the directories back; the last subscriber of a directory
// removes its inotify watch.
func (s *sub) close() {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.subs[s] {
		return
	}
	delete(h.subs, s)
	h.release(s)
}

// release undoes s's directory counts; the caller holds mu.
func (h *Hub) release(s *sub) {
	for d := range s.dirs {
		if h.dirs[d]--; h.dirs[d] <= 0 {
			delete(h.dirs, d)
			_ = h.fw.Remove(d) // fails when the directory is gone, which removed the watch already
		}
	}
}

// watch subscribes to dirs, all or none.
func (h *Hub) watch(dirs []string) (*sub, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errors.New("the shared watch is closed")
	}
	if h.fw == nil {
		fw, err := fsnotify.NewWatcher()
		if err != nil {
			return nil, fmt.Errorf("inotify: %w", err)
		}
		h.fw, h.dirs, h.subs = fw, map[string]int{}, map[*sub]bool{}
		go h.dispatch(fw)
	}
	s := &sub{h: h, dirs: map[string]bool{}, evs: make(chan fsnotify.Event, 64), errs: make(chan error, 4)}
	for _, d := range dirs {
		// Added even when already watched: a directory removed and made
		// again needs a new inotify watch, and adding a live one changes
		// nothing.
		if err := h.fw.Add(d); err != nil {
			h.release(s)
			return nil, fmt.Errorf("watch %s: %w", d, err)
		}
		s.dirs[d] = true
		h.dirs[d]++
	}
	h.subs[s] = true
	return s, nil
}

// dispatch hands each event to the subscribers of its directory (or of
// the directory itself) until the instance is closed.
func (h *Hub) dispatch(fw *fsnotify.Watcher) {
	for {
		select {
		case ev, ok := <-fw.Events:
			if !ok {
				h.end()
				return
			}
			h.send(ev)
		case err, ok := <-fw.Errors:
			if !ok {
				h.end()
				return
			}
			h.sendErr(err)
		}
	}
}

func (h *Hub) send(ev fsnotify.Event) {
	name := filepath.Clean(ev.Name)
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !s.dirs[filepath.Dir(name)] && !s.dirs[name] {
			continue
		}
		select {
		case s.evs <- ev:
		default: // a slow subscriber must not hold up the others
			sendErr(s, fsnotify.ErrEventOverflow)
		}
	}
}

func (h *Hub) sendErr(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		sendErr(s, err)
	}
}

func sendErr(s *sub, err error) {
	select {
	case s.errs <- err:
	default: // one pending error already makes the subscriber re-check
	}
}

// end closes every subscription: the instance is gone.
func (h *Hub) end() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		close(s.evs)
		close(s.errs)
	}
	h.subs, h.dirs, h.fw = map[*sub]bool{}, map[string]int{}, nil
}
