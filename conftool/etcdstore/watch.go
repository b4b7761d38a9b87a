package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool"
)

// View is a consistent picture of a watched prefix: every object whose
// value is valid, at one revision, sorted by key. An object whose value
// stopped being valid appears with its last good value.
type View struct {
	Revision int64
	// Objects is every object; nil in the views handed to OnUpdate when
	// Options.ChangesOnly is set (Current always has them).
	Objects []conftool.Object
	// Listed is set on a view made by a full read (at start, after an
	// outage or a compaction) rather than by watch events: a key missing
	// from it may have been deleted at any time since the last view, and
	// a reader may want to be careful with what such a view removes.
	Listed bool
	// Changed are the objects put since the previous view (new ones, and
	// new good values), Removed the keys of the objects gone since then
	// (deleted, or missing from a full read); both sorted by key. The
	// first view's Changed is every object. A reader that keeps its own
	// state applies them instead of going through Objects: one change in
	// a prefix of 10,000 objects is one object here.
	Changed []conftool.Object
	Removed []string
}

// Options configures a Watcher.
type Options struct {
	Layout conftool.Layout
	// Prefix is the key prefix watched, e.g. Layout.Dir(conftool.Site);
	// "" means the whole layout (Layout.Prefix + "/").
	Prefix string
	// Validate checks one object; nil means conftool.Validate of its kind.
	Validate func(conftool.Object) error
	// OnUpdate is called, from Run's goroutine, with each new view.
	OnUpdate func(View)
	// ChangesOnly leaves Objects out of the views handed to OnUpdate, for
	// a reader of Changed and Removed alone: copying every object for each
	// event is what costs in a large prefix.
	ChangesOnly bool
	// Probe is how often a watch is checked to reach etcd (default 1 s):
	// a watch alone does not notice that etcd went away.
	Probe time.Duration
	Log   *slog.Logger
}

// Watcher keeps the last good view of a prefix. Run lists it, watches from
// the next revision, re-lists after a compaction or an outage, and keeps
// serving the last view while etcd is unreachable.
type Watcher struct {
	cli  *clientv3.Client
	opt  Options
	log  *slog.Logger
	name string

	connected   atomic.Bool
	since       atomic.Int64 // unix ns of the last change of connected, or of Run's start
	revision    atomic.Int64
	lists       atomic.Int64 // full re-lists after the first: outages, compactions
	rejected    atomic.Int64 // values refused, counted once per key and reason
	warnedStart bool         // the start-up outage is logged once

	mu      sync.Mutex
	objects []conftool.Object // last good value per key, sorted by key (store.go)
	invalid map[string]string // key -> why its current value is ignored
	// touched are the keys whose object changed since the last view, each
	// with whether it had an object in that view.
	touched map[string]bool
	view    *View
}

// NewWatcher returns a watcher; nothing happens before Run.
func NewWatcher(cli *clientv3.Client, opt Options) *Watcher {
	if opt.Prefix == "" {
		opt.Prefix = opt.Layout.Prefix + "/"
	}
	if opt.Probe <= 0 {
		opt.Probe = time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Validate == nil {
		opt.Validate = func(o conftool.Object) error { return conftool.Validate(o.Kind, o.Value) }
	}
	return &Watcher{cli: cli, opt: opt, log: opt.Log, name: opt.Prefix, invalid: map[string]string{}, touched: map[string]bool{}}
}

// Connected reports whether the last contact with etcd succeeded.
func (w *Watcher) Connected() bool { return w.connected.Load() }

// State reports whether the last contact with etcd succeeded and since
// when that is so: the last change of reachability, or Run's start while
// etcd never answered (zero before Run).
func (w *Watcher) State() (connected bool, since time.Time) {
	if ns := w.since.Load(); ns != 0 {
		since = time.Unix(0, ns)
	}
	return w.connected.Load(), since
}

// Revision is the etcd revision of the view last applied (0 before any).
func (w *Watcher) Revision() int64 { return w.revision.Load() }

// Relists counts full re-lists after the first (outages and compactions).
func (w *Watcher) Relists() int64 { return w.lists.Load() }

// Rejected counts values refused (each key and revision once).
func (w *Watcher) Rejected() int64 { return w.rejected.Load() }

// Current is the last view; ok is false until the first list succeeded.
func (w *Watcher) Current() (View, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.view == nil {
		return View{}, false
	}
	if w.view.Objects == nil { // ChangesOnly: made on demand
		w.view.Objects = slices.Clone(w.objects)
		if w.view.Objects == nil {
			w.view.Objects = []conftool.Object{}
		}
	}
	return *w.view, true
}

// Invalid lists the keys whose current value is ignored, with the reason.
func (w *Watcher) Invalid() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.invalid)
}

// Run follows the prefix until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	w.since.CompareAndSwap(0, time.Now().UnixNano())
	backoff := newBackoff(retryMin, retryMax)
	for ctx.Err() == nil {
		rev, err := w.list(ctx)
		if err != nil {
			w.setConnected(false, err)
			backoff.wait(ctx)
			continue
		}
		backoff.reset()
		err = w.watch(ctx, rev)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, rpctypes.ErrCompacted) {
			w.log.Warn("etcd: watch fell behind a compaction; re-listing", "prefix", w.name, "revision", w.Revision(), "err", err)
		} else {
			w.setConnected(false, err)
			backoff.wait(ctx)
		}
	}
}

// list reads the whole prefix and replaces the view with it. The watcher
// is marked connected, and a re-list counted, before OnUpdate sees the
// view, so that a reader called from OnUpdate finds them consistent.
func (w *Watcher) list(ctx context.Context) (int64, error) {
	lctx, cancel := context.WithTimeout(ctx, w.timeout())
	defer cancel()
	resp, err := w.cli.Get(lctx, w.opt.Prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("list %s: %w", w.opt.Prefix, err)
	}
	w.mu.Lock()
	relist := w.view != nil
	w.replace(resp.Kvs)
	v := w.publish(resp.Header.Revision)
	v.Listed = true
	w.mu.Unlock()
	if relist {
		w.lists.Add(1)
	}
	w.setConnected(true, nil)
	w.notify(v)
	return resp.Header.Revision, nil
}

func (w *Watcher) timeout() time.Duration { return max(w.opt.Probe, 2*time.Second) }

// watch applies events after rev until the watch fails or etcd stops
// answering the probe. The probe runs beside the watch, because creating a
// watch blocks while etcd is away and a quiet watch never says it is.
func (w *Watcher) watch(ctx context.Context, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	probeErr := make(chan error, 1)
	var probing sync.WaitGroup
	probing.Add(1)
	go func() {
		defer probing.Done()
		if err := w.probeUntilFailure(wctx); err != nil {
			probeErr <- err
			cancel()
		}
	}()
	defer func() { cancel(); probing.Wait() }()
	wch := w.cli.Watch(wctx, w.opt.Prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for {
		select {
		case err := <-probeErr:
			return err
		case resp, ok := <-wch:
			if !ok {
				select {
				case err := <-probeErr:
					return err
				default:
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return errors.New("watch closed")
			}
			if err := resp.Err(); err != nil {
				return err
			}
			if resp.Canceled {
				return errors.New("watch cancelled by etcd")
			}
			w.apply(resp)
		}
	}
}

// probeUntilFailure probes every Probe interval until a probe fails (its
// error) or ctx ends (nil).
func (w *Watcher) probeUntilFailure(ctx context.Context) error {
	t := time.NewTicker(w.opt.Probe)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := w.probe(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
}

// probe is a cheap linearizable read: it fails when etcd or its quorum is
// gone, which a quiet watch would never tell.
func (w *Watcher) probe(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, w.timeout())
	defer cancel()
	_, err := w.cli.Get(pctx, w.opt.Prefix, clientv3.WithCountOnly(), clientv3.WithLimit(1))
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	return nil
}

func (w *Watcher) apply(resp clientv3.WatchResponse) {
	w.mu.Lock()
	for _, ev := range resp.Events {
		switch ev.Type {
		case mvccpb.PUT:
			w.put(ev.Kv)
		case mvccpb.DELETE:
			w.del(string(ev.Kv.Key))
		}
	}
	var v *View
	if len(resp.Events) > 0 {
		v = w.publish(resp.Header.Revision)
	}
	w.mu.Unlock()
	w.notify(v)
}

// publish builds the view and makes it current. Called with mu held.
func (w *Watcher) publish(rev int64) *View {
	v := &View{Revision: rev}
	if !w.opt.ChangesOnly {
		v.Objects = make([]conftool.Object, len(w.objects))
		copy(v.Objects, w.objects)
	}
	for _, k := range slices.Sorted(maps.Keys(w.touched)) {
		if i, ok := w.find(k); ok {
			v.Changed = append(v.Changed, w.objects[i])
		} else if w.touched[k] {
			v.Removed = append(v.Removed, k)
		}
	}
	clear(w.touched)
	w.view = v
	w.revision.Store(rev)
	return v
}

// notify hands a view to OnUpdate, outside mu so the callback may call
// Current or Invalid. Only Run's goroutine notifies, so views arrive in
// revision order.
func (w *Watcher) notify(v *View) {
	if v != nil && w.opt.OnUpdate != nil {
		w.opt.OnUpdate(*v)
	}
}

// setConnected logs only changes of reachability, never each retry.
func (w *Watcher) setConnected(up bool, err error) {
	was := w.connected.Swap(up)
	if was != up {
		w.since.Store(time.Now().UnixNano())
	}
	switch {
	case up && !was:
		w.log.Info("etcd: connected; view current", "prefix", w.name, "revision", w.Revision())
	case !up && was:
		w.log.Error("etcd: unreachable; keeping the last good state until it returns", "prefix", w.name,
			"revision", w.Revision(), "err", err)
	case !up && w.Revision() == 0 && err != nil && !w.warnedStart:
		w.log.Error("etcd: unreachable at start; nothing from etcd applies until it answers", "prefix", w.name, "err", err)
		w.warnedStart = true
	}
}
