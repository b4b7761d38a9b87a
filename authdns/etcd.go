package authdns

import (
	"context"
	"log/slog"
	"maps"
	"sync"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
)

// etcdKinds are the objects authdns reads: each is watched under its own
// directory, so the pool nodes (thousands, changing often) under the same
// prefix never reach authdns.
func etcdKinds() []conftool.Kind { return []conftool.Kind{conftool.Site, conftool.AdminState} }

// etcdFollower follows conftool's site and admin-state objects in etcd.
// Each watcher's update is handed on as it arrives (no debounce: a watch
// event is one complete change, unlike a burst of file events).
type etcdFollower struct {
	set    *etcdSettings
	log    *slog.Logger
	notify func(*etcdFollower) // after a view changed; it calls state()

	mu       sync.Mutex
	views    []*etcdstore.View    // per etcdKinds() entry; nil until listed
	watchers []*etcdstore.Watcher // nil until a client exists
	cached   *adminstate.State    // state() of the views now, nil when stale

	cancel context.CancelFunc
	done   chan struct{}
}

func newEtcdFollower(set *etcdSettings, log *slog.Logger, notify func(*etcdFollower)) *etcdFollower {
	return &etcdFollower{set: set, log: log, notify: notify, views: make([]*etcdstore.View, len(etcdKinds())),
		done: make(chan struct{})}
}

// start follows etcd until stop or ctx ends.
func (f *etcdFollower) start(ctx context.Context) {
	ctx, f.cancel = context.WithCancel(ctx)
	go f.run(ctx)
}

// stop ends the follower without waiting for it: its last callback may be
// waiting for the daemon's lock, which the caller may hold. wait waits.
func (f *etcdFollower) stop() { f.cancel() }

func (f *etcdFollower) wait(ctx context.Context) {
	select {
	case <-f.done:
	case <-ctx.Done():
	}
}

func (f *etcdFollower) run(ctx context.Context) {
	defer close(f.done)
	cli := f.set.client.Connect(ctx, f.log)
	if cli == nil {
		return
	}
	defer cli.Close()
	layout := f.set.cfg.Layout()
	ws := make([]*etcdstore.Watcher, len(etcdKinds()))
	for i, k := range etcdKinds() {
		ws[i] = etcdstore.NewWatcher(cli, etcdstore.Options{
			Layout:   layout,
			Prefix:   layout.Dir(k),
			Validate: validateAdminObject,
			OnUpdate: func(v etcdstore.View) { f.setView(i, v) },
			Log:      f.log,
		})
	}
	f.mu.Lock()
	f.watchers = ws
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() { w.Run(ctx) })
	}
	wg.Wait()
}

// validateAdminObject refuses what the admin state could not use: a value
// that does not parse, or a key that is not a valid admin_state glob. The
// watcher then keeps the object's last good value.
func validateAdminObject(o conftool.Object) error {
	_, _, err := conftool.AdminEntry(o)
	return err
}

func (f *etcdFollower) setView(i int, v etcdstore.View) {
	f.mu.Lock()
	f.views[i] = &v
	f.cached = nil
	f.mu.Unlock()
	f.notify(f)
}

// state is the admin state of the objects in etcd now, and the newest
// revision read; ok is false until every kind was listed once, so a
// half-read etcd never applies.
func (f *etcdFollower) state() (st *adminstate.State, rev int64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var objs []conftool.Object
	for _, v := range f.views {
		if v == nil {
			return nil, 0, false
		}
		objs = append(objs, v.Objects...)
		rev = max(rev, v.Revision)
	}
	if f.cached != nil {
		return f.cached, rev, true
	}
	st, bad := conftool.ToAdminState(objs, rev)
	for _, err := range bad {
		// The watchers validate as ToAdminState does: this is a bug.
		f.log.Error("etcd: an object the watcher accepted does not convert; left out", "err", err)
	}
	f.cached = st
	return st, rev, true
}

// EtcdStatus is the `etcd` part of GET /v1/status.
type EtcdStatus struct {
	Endpoints []string `json:"endpoints"`
	Prefix    string   `json:"prefix"`
	// Connected is true while every watch reaches etcd; while false the
	// last good state keeps applying.
	Connected bool `json:"connected"`
	// Revision is the newest etcd revision applied (0: nothing yet).
	Revision int64 `json:"revision"`
	// Entries is how many admin_state entries come from etcd now.
	Entries  int   `json:"entries"`
	Relists  int64 `json:"relists"`
	Rejected int64 `json:"rejected_values"`
	// Invalid lists keys whose current value is ignored (the previous
	// value stays), with the reason.
	Invalid map[string]string `json:"invalid,omitempty"`
}

// status reports the watchers; entries is the etcd state's size.
func (f *etcdFollower) status() EtcdStatus {
	f.mu.Lock()
	ws := f.watchers
	f.mu.Unlock()
	s := EtcdStatus{Endpoints: f.set.cfg.Endpoints, Prefix: f.set.cfg.Prefix, Connected: len(ws) > 0}
	for _, w := range ws {
		s.Connected = s.Connected && w.Connected()
		s.Revision = max(s.Revision, w.Revision())
		s.Relists += w.Relists()
		s.Rejected += w.Rejected()
		if inv := w.Invalid(); len(inv) > 0 {
			if s.Invalid == nil {
				s.Invalid = map[string]string{}
			}
			maps.Copy(s.Invalid, inv)
		}
	}
	return s
}
