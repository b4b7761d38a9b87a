package service

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
)

// EtcdOptions connect a Service to etcd, whose site, route and app-route
// objects then override routing.yaml and sit under the admin_state file.
type EtcdOptions struct {
	Client    *clientv3.Client // opened by the caller, who closes it after Run returns
	Layout    conftool.Layout
	Endpoints []string // for /status
	// Probe is how often each watch checks that etcd still answers
	// (default 1 s, etcdstore's).
	Probe time.Duration
}

// metricsNamespace is the service's own metric prefix, which the etcd
// watchers' metrics share: geotraffic_routing_etcd_connected, ...
const metricsNamespace = "geotraffic_routing"

// follower runs one etcdstore.Watcher per kind of EtcdKinds(): watching the
// whole layout would also stream every pool change, which routing never
// uses. Views are combined under the service's lock.
type follower struct {
	opts     EtcdOptions
	watchers []*etcdstore.Watcher
	prefixes []string          // each watcher's
	views    []*etcdstore.View // the latest of each watcher; nil before its first
	ready    chan struct{}     // closed once every watcher delivered a view
}

func (s *Service) newFollower(opts EtcdOptions, reg prometheus.Registerer) (*follower, error) {
	f := &follower{opts: opts, views: make([]*etcdstore.View, len(EtcdKinds())), ready: make(chan struct{})}
	for i, k := range EtcdKinds() {
		prefix := opts.Layout.Dir(k)
		w := etcdstore.NewWatcher(opts.Client, etcdstore.Options{Layout: opts.Layout, Prefix: prefix, Probe: opts.Probe,
			Log: s.log, OnUpdate: func(v etcdstore.View) { s.applyView(i, v) }})
		if err := etcdstore.RegisterMetrics(reg, metricsNamespace, prometheus.Labels{"prefix": prefix}, w); err != nil {
			return nil, fmt.Errorf("service: etcd metrics: %w", err)
		}
		f.watchers, f.prefixes = append(f.watchers, w), append(f.prefixes, prefix)
	}
	return f, nil
}

// run follows etcd until ctx ends, and returns once every watcher has
// stopped, so that none calls into the service afterwards.
func (f *follower) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, w := range f.watchers {
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(ctx) }()
	}
	wg.Wait()
}

// set records a watcher's view and returns every object of the latest
// views, their highest revision, and whether every watcher delivered one.
// Called with the service's lock held.
func (f *follower) set(i int, v etcdstore.View) ([]conftool.Object, int64, bool) {
	f.views[i] = &v
	var objs []conftool.Object
	var rev int64
	all := true
	for _, v := range f.views {
		if v == nil {
			all = false
			continue
		}
		objs = append(objs, v.Objects...)
		rev = max(rev, v.Revision)
	}
	return objs, rev, all
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// applyView takes a watcher's new view: the sites apply at once, the
// overrides only if routing.yaml with them validates; each view
// re-resolves at once (no debounce: a view is one etcd revision).
func (s *Service) applyView(i int, v etcdstore.View) {
	s.mu.Lock()
	defer s.mu.Unlock()
	objs, rev, all := s.etcd.set(i, v)
	remote, bad := NewRemote(objs, rev)
	for _, err := range bad { // the watchers validate values: not expected
		s.log.Warn("etcd: ignoring an object", "err", err)
	}
	prev := s.remote
	s.remote = remote
	sitesChanged := !slices.Equal(siteEntries(prev), siteEntries(remote))
	for _, c := range adminstate.Diff(prev.sites(), remote.Sites) {
		s.log.Info("etcd: "+c, "revision", rev)
	}
	changed := s.combine()
	if sitesChanged || changed {
		s.resolve()
	}
	if changed {
		s.acceptEtcd()
	}
	if all && !isClosed(s.etcd.ready) { // after resolve: ready means served
		close(s.etcd.ready)
	}
}

func (r *Remote) sites() *adminstate.State {
	if r == nil {
		return nil
	}
	return r.Sites
}

func siteEntries(r *Remote) []adminstate.Entry {
	if st := r.sites(); st != nil {
		return st.Entries
	}
	return nil
}

// EtcdReady is closed once every etcd watcher delivered its first view,
// at once without etcd; serve waits on it (bounded) before listening, so
// it does not answer with routing.yaml alone while etcd holds overrides.
func (s *Service) EtcdReady() <-chan struct{} {
	if s.etcd == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return s.etcd.ready
}
