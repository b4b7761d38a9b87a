package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// etcdBench is a daemon (not running) with one etcd service whose source
// has applied a first view of n nodes, every server resolved and the
// service ready, as lvsd is after its initial pooling; IPVS is a dry run.
type etcdBench struct {
	d    *Daemon
	s    *service
	e    *etcdSource
	f    *feed
	objs []conftool.Object // the nodes, sorted by key, as last viewed
	rev  int64
}

func benchHost(i int) string { return fmt.Sprintf("127.%d.%d.%d", 100+i/65536, i/256%256, i%256) }

func newEtcdBench(b *testing.B, n int) *etcdBench {
	b.Helper()
	dir := b.TempDir()
	conf := filepath.Join(dir, "pybal.conf")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(etcdConf, "ETCD", "127.0.0.1:1")), 0o644); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	d, err := New(Options{ConfigPath: conf, Director: ipvs.NewDryRun(log), Log: log})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sc := d.loaded.Config.Services[0]
	s := newService(d, sc, d.loaded.Monitors[sc.Name], d.loaded.Config.Global.DNSRefreshInterval, d.loaded)
	d.services, d.ctx = []*service{s}, ctx
	b.Cleanup(func() { cancel(); s.stop() })
	eb := &etcdBench{d: d, s: s, e: newEtcdSource(sc, log), f: &feed{s: s, ctx: ctx, first: true}, rev: 1}
	l := conftool.NewLayout("")
	for i := range n {
		key := nodeDir + benchHost(i)
		kind, tags, _ := l.Parse(key)
		eb.objs = append(eb.objs, conftool.Object{Kind: kind, Key: key, Tags: tags, Value: []byte(`{"weight":10,"pooled":"yes"}`), ModRevision: 1})
	}
	slices.SortFunc(eb.objs, func(a, b conftool.Object) int { return strings.Compare(a.Key, b.Key) })
	eb.view(nil, true)
	for deadline := time.Now().Add(5 * time.Minute); !s.ready.Load(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the service never became ready")
		}
	}
	d.reconcile(ctx)
	if got := len(s.coord.Desired().Destinations); got != n {
		b.Fatalf("%d destinations, want %d", got, n)
	}
	return eb
}

// change sets node i's weight, as a watch event would.
func (eb *etcdBench) change(i, weight int) {
	eb.rev++
	o := &eb.objs[i%len(eb.objs)]
	o.Value, o.ModRevision = []byte(fmt.Sprintf(`{"weight":%d,"pooled":"yes"}`, weight)), eb.rev
	eb.view([]conftool.Object{*o}, false)
}

// view hands the source the view after the changed objects.
func (eb *etcdBench) view(changed []conftool.Object, listed bool) {
	eb.e.onView(etcdstore.View{Revision: eb.rev, Objects: eb.objs, Listed: listed}, "apache2_80", eb.f.apply)
}

// BenchmarkEtcdChange10k is one node's weight changed in a service of
// 10,000 nodes, from the watcher's view to the coordinator's new state.
func BenchmarkEtcdChange10k(b *testing.B) {
	eb := newEtcdBench(b, 10000)
	i := 0
	for b.Loop() {
		eb.change(i, 10+(i/10000+1)%2)
		i++
	}
}

// BenchmarkEtcdChangeReconcile10k is BenchmarkEtcdChange10k followed by the
// reconciliation it triggers (dry-run IPVS): lvsd's whole work per change
// after the watcher.
func BenchmarkEtcdChangeReconcile10k(b *testing.B) {
	eb := newEtcdBench(b, 10000)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		eb.change(i, 10+(i/10000+1)%2)
		eb.d.reconcile(ctx)
		i++
	}
}
