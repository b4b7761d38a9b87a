package etcdstore

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// views collects a watcher's views so tests can wait for one.
type views struct {
	mu   sync.Mutex
	cond *sync.Cond
	last View
	n    int
}

func newViews() *views {
	v := &views{}
	v.cond = sync.NewCond(&v.mu)
	return v
}

func (v *views) on(view View) {
	v.mu.Lock()
	v.last, v.n = view, v.n+1
	v.mu.Unlock()
	v.cond.Broadcast()
}

// waitFor waits until a view satisfies ok, bounded by 10 s.
func (v *views) waitFor(t *testing.T, what string, ok func(View) bool) View {
	t.Helper()
	done := make(chan struct{})
	timer := time.AfterFunc(10*time.Second, func() { close(done); v.cond.Broadcast() })
	defer timer.Stop()
	v.mu.Lock()
	defer v.mu.Unlock()
	for !(v.n > 0 && ok(v.last)) {
		select {
		case <-done:
			t.Fatalf("no view with %s; last: %+v", what, v.last)
		default:
		}
		v.cond.Wait()
	}
	return v.last
}

func value(v View, key string) string {
	for _, o := range v.Objects {
		if o.Key == key {
			return string(o.Value)
		}
	}
	return ""
}

func startWatcher(t *testing.T, e *testetcd.Etcd, prefix string, log *slog.Logger) (*Watcher, *views) {
	t.Helper()
	cli, err := ClientConfig{Endpoints: e.Endpoints()}.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	vs := newViews()
	w := NewWatcher(cli, Options{Layout: conftool.NewLayout(""), Prefix: prefix, OnUpdate: vs.on, Probe: 100 * time.Millisecond, Log: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w, vs
}

func put(t *testing.T, c *clientv3.Client, k, v string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Put(ctx, k, v); err != nil {
		t.Fatal(err)
	}
}

func TestWatcherFollowsAndKeepsLastGood(t *testing.T) {
	e := testetcd.Start(t)
	c := e.Client(t)
	const esams, eqsin = "/conftool/v1/sites/esams", "/conftool/v1/sites/eqsin"
	put(t, c, esams, `{"state":"up"}`)
	put(t, c, "/conftool/v1/pools/eqiad/a/b/mw1", `{"weight":1,"pooled":"yes"}`) // outside the prefix
	var logs testutil.SyncBuffer
	w, vs := startWatcher(t, e, "/conftool/v1/sites/", slog.New(slog.NewTextHandler(&logs, nil)))

	v := vs.waitFor(t, "esams up", func(v View) bool { return value(v, esams) == `{"state":"up"}` })
	if len(v.Objects) != 1 || !w.Connected() || w.Revision() != v.Revision {
		t.Fatalf("first view %+v connected=%v rev=%d", v, w.Connected(), w.Revision())
	}
	put(t, c, esams, `{"state":"down"}`)
	put(t, c, eqsin, `{"state":"down"}`)
	vs.waitFor(t, "esams and eqsin down", func(v View) bool {
		return value(v, esams) == `{"state":"down"}` && value(v, eqsin) == `{"state":"down"}`
	})

	// A garbage value keeps the previous one, and is reported with its key.
	put(t, c, esams, `<html>502</html>`)
	put(t, c, "/conftool/v1/sites/marker", `{"state":"up"}`)
	v = vs.waitFor(t, "the marker", func(v View) bool { return value(v, "/conftool/v1/sites/marker") != "" })
	if got := value(v, esams); got != `{"state":"down"}` {
		t.Errorf("esams after a garbage value: %q, want the last good value", got)
	}
	if w.Rejected() != 1 || !strings.Contains(w.Invalid()[esams], "not a JSON object") {
		t.Errorf("rejected %d, invalid %v", w.Rejected(), w.Invalid())
	}
	if !strings.Contains(logs.String(), "key="+esams) {
		t.Errorf("the garbage value is not logged with its key:\n%s", logs.String())
	}

	// A delete removes the object, last good value included.
	if _, err := c.Delete(context.Background(), eqsin); err != nil {
		t.Fatal(err)
	}
	vs.waitFor(t, "eqsin gone", func(v View) bool { return value(v, eqsin) == "" })
}

func TestWatcherOutage(t *testing.T) {
	e := testetcd.Start(t)
	c := e.Client(t)
	const esams = "/conftool/v1/sites/esams"
	put(t, c, esams, `{"state":"down"}`)
	var logs testutil.SyncBuffer
	w, vs := startWatcher(t, e, "/conftool/v1/sites/", slog.New(slog.NewTextHandler(&logs, nil)))
	vs.waitFor(t, "esams down", func(v View) bool { return value(v, esams) == `{"state":"down"}` })

	e.Stop()
	waitUntil(t, "disconnected", func() bool { return !w.Connected() }, &logs)
	if v, ok := w.Current(); !ok || value(v, esams) != `{"state":"down"}` {
		t.Errorf("view during the outage: %+v", v)
	}
	e.Restart(t)
	put(t, c, esams, `{"state":"up"}`)
	vs.waitFor(t, "esams up after the restart", func(v View) bool { return value(v, esams) == `{"state":"up"}` })
	waitUntil(t, "connected", w.Connected, &logs)
	if n := strings.Count(logs.String(), "etcd: unreachable"); n != 1 {
		t.Errorf("%d unreachable lines, want one per outage:\n%s", n, logs.String())
	}
}

// A watch that starts behind a compaction reports it, and Run's answer to
// that is a re-list: nothing written meanwhile is lost.
func TestWatchBehindCompaction(t *testing.T) {
	e := testetcd.Start(t)
	c := e.Client(t)
	cli, err := ClientConfig{Endpoints: e.Endpoints()}.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	vs := newViews()
	w := NewWatcher(cli, Options{Layout: conftool.NewLayout(""), Prefix: "/conftool/v1/sites/", OnUpdate: vs.on})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rev, err := w.list(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a", "b", "c"} {
		put(t, c, "/conftool/v1/sites/"+s, `{"state":"down"}`)
	}
	resp, err := c.Get(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	e.Compact(t, resp.Header.Revision)
	if err := w.watch(ctx, rev); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("watch behind a compaction: %v, want ErrCompacted", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	vs.waitFor(t, "a, b and c", func(v View) bool { return len(v.Objects) == 3 })
}

func waitUntil(t *testing.T, what string, ok func() bool, logs *testutil.SyncBuffer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; watcher log:\n%s", what, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
