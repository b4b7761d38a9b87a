package etcdstore

import (
	"fmt"
	"strconv"
	"testing"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool"
)

const benchPrefix = "/conftool/v1/pools/eqiad/appserver/apache2/"

// benchWatcher is a watcher (without etcd) holding n node objects, as
// after its first list.
func benchWatcher(b *testing.B, n int, opt Options) *Watcher {
	opt.Layout, opt.Prefix = conftool.NewLayout(""), benchPrefix
	w := NewWatcher(nil, opt)
	var kvs []*mvccpb.KeyValue
	for i := range n {
		kvs = append(kvs, &mvccpb.KeyValue{Key: []byte(benchPrefix + benchHost(i)), Value: []byte(`{"weight":10,"pooled":"yes"}`), ModRevision: 1})
	}
	w.mu.Lock()
	w.replace(kvs)
	w.publish(1)
	w.mu.Unlock()
	return w
}

func benchHost(i int) string { return fmt.Sprintf("127.%d.%d.%d", 100+i/65536, i/256%256, i%256) }

// BenchmarkWatcherEvent10k is one watch event (a node's weight toggled) in
// a prefix of 10,000 nodes, up to the view handed to OnUpdate.
func BenchmarkWatcherEvent10k(b *testing.B) { benchEvent(b, false) }

// BenchmarkWatcherEventChangesOnly10k is the same for a reader of the
// changes alone (Options.ChangesOnly), as lvsd.
func BenchmarkWatcherEventChangesOnly10k(b *testing.B) { benchEvent(b, true) }

func benchEvent(b *testing.B, changesOnly bool) {
	const n = 10000
	var got View
	w := benchWatcher(b, n, Options{OnUpdate: func(v View) { got = v }, ChangesOnly: changesOnly})
	rev := int64(1)
	for b.Loop() {
		rev++
		kv := &mvccpb.KeyValue{Key: []byte(benchPrefix + benchHost(int(rev)%n)),
			Value: []byte(`{"weight":` + strconv.Itoa(10+int(rev%2)) + `,"pooled":"yes"}`), ModRevision: rev}
		w.apply(clientv3.WatchResponse{Header: &etcdserverpb.ResponseHeader{Revision: rev},
			Events: []*clientv3.Event{{Type: mvccpb.PUT, Kv: kv}}})
	}
	if got.Revision != rev || len(got.Changed) != 1 {
		b.Fatalf("last view at revision %d with %d changes, want %d and 1", got.Revision, len(got.Changed), rev)
	}
}
