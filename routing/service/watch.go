package service

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Run watches both files, and etcd when configured, until ctx ends. It
// returns once the etcd watchers have stopped. It watches directories, not
// the files: editors and tools replace files by rename, and a watch on the
// file would die with the old inode. Any event in a watched directory
// triggers a debounced reload of both files (cheap: unchanged contents are
// a no-op), which also covers symlink swaps such as Kubernetes ConfigMaps.
func (s *Service) Run(ctx context.Context) error {
	if s.etcd != nil {
		ectx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); s.etcd.run(ectx) }()
		defer func() { cancel(); <-done }()
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("routing watch: %w", err)
	}
	defer fw.Close()
	dirs := map[string]bool{}
	for _, p := range []string{s.opts.RoutingPath, s.opts.AdminStatePath} {
		d := filepath.Dir(p)
		if dirs[d] {
			continue
		}
		if err := fw.Add(d); err != nil {
			return fmt.Errorf("routing watch %s: %w", d, err)
		}
		dirs[d] = true
	}
	// Files changed between New's load and the watch being set up emit no
	// event we can see: read them once more now that nothing is missed.
	_ = s.Reload()
	var tick <-chan time.Time
	if s.opts.Poll > 0 {
		t := time.NewTicker(s.opts.Poll)
		defer t.Stop()
		tick = t.C
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			timer.Reset(s.opts.Debounce)
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			s.log.Warn("routing: watch error", "err", err)
		case <-timer.C:
			_ = s.Reload() // errors are logged and counted by Reload
		case <-tick:
			_ = s.Reload()
		}
	}
}
