package service

import (
	"context"

	"github.com/geotraffic/geotraffic/internal/filewatch"
)

// Run watches both files, and etcd when configured, until ctx ends. It
// returns once the etcd watchers have stopped. Any change in a watched
// directory, not only to the two files, triggers a debounced reload of both
// (cheap: unchanged contents are a no-op), which also covers symlink swaps
// such as Kubernetes ConfigMaps. A watch that cannot be set up or is lost
// is retried while the files are re-read every retry interval.
func (s *Service) Run(ctx context.Context) error {
	if s.etcd != nil {
		ectx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); s.etcd.run(ectx) }()
		defer func() { cancel(); <-done }()
	}
	reload := func() { _ = s.Reload() } // errors are logged and counted by Reload
	w := filewatch.New(filewatch.Options{
		Files:    []string{s.opts.RoutingPath, s.opts.AdminStatePath},
		AnyName:  true,
		Debounce: s.opts.Debounce,
		Poll:     max(s.opts.Poll, 0),
		Log:      s.log,
		Name:     "routing",
		Changed:  reload,
		Check:    reload,
	})
	return w.Run(ctx)
}
