package etcdstore

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool"
)

// The tests here drive a watcher without etcd: list's full read through
// replace and publish, watch events through apply.

const sites = "/conftool/v1/sites/"

func kv(key, value string, rev int64) *mvccpb.KeyValue {
	return &mvccpb.KeyValue{Key: []byte(key), Value: []byte(value), ModRevision: rev}
}

func fullRead(w *Watcher, rev int64, kvs ...*mvccpb.KeyValue) {
	w.mu.Lock()
	w.replace(kvs)
	v := w.publish(rev)
	v.Listed = true
	w.mu.Unlock()
	w.notify(v)
}

func event(w *Watcher, rev int64, evs ...*clientv3.Event) {
	w.apply(clientv3.WatchResponse{Header: &etcdserverpb.ResponseHeader{Revision: rev}, Events: evs})
}

func putEv(key, value string, rev int64) *clientv3.Event {
	return &clientv3.Event{Type: mvccpb.PUT, Kv: kv(key, value, rev)}
}

func delEv(key string, rev int64) *clientv3.Event {
	return &clientv3.Event{Type: mvccpb.DELETE, Kv: kv(key, "", rev)}
}

// changes renders a view's Changed and Removed as "+a=up -b".
func changes(v View) string {
	var out []string
	for _, o := range v.Changed {
		out = append(out, "+"+o.Name()+"="+strings.Trim(strings.TrimPrefix(string(o.Value), `{"state":`), `"}`))
	}
	for _, k := range v.Removed {
		out = append(out, "-"+strings.TrimPrefix(k, sites))
	}
	return strings.Join(out, " ")
}

// Each view says what changed since the one before: puts with a good value,
// deletes, and what a full read finds added, changed or gone; not an
// invalid value (the object keeps its last good one), not a key put and
// deleted between two views, not a re-read of an unchanged value.
func TestViewChanges(t *testing.T) {
	var got []View
	w := NewWatcher(nil, Options{Layout: conftool.NewLayout(""), Prefix: sites, OnUpdate: func(v View) { got = append(got, v) }})
	up, down := `{"state":"up"}`, `{"state":"down"}`
	fullRead(w, 3, kv(sites+"b", up, 2), kv(sites+"a", up, 3), kv(sites+"c", "garbage", 1))
	event(w, 4, putEv(sites+"d", down, 4))
	event(w, 6, putEv(sites+"a", down, 5), putEv(sites+"a", up, 6))
	event(w, 7, putEv(sites+"b", "garbage", 7))
	event(w, 9, putEv(sites+"e", up, 8), delEv(sites+"e", 9), delEv(sites+"d", 9))
	event(w, 10, putEv("/conftool/v1/log/x", "{}", 10))
	// After an outage: b fixed, c valid at last, a unchanged, d gone, f new.
	fullRead(w, 20, kv(sites+"a", up, 6), kv(sites+"b", down, 15), kv(sites+"c", down, 16), kv(sites+"f", up, 17))
	want := []string{
		"+a=up +b=up",
		"+d=down",
		"+a=up",
		"",
		"-d",
		"",
		"+b=down +c=down +f=up",
	}
	var have []string
	for _, v := range got {
		have = append(have, changes(v))
	}
	if !slices.Equal(have, want) {
		t.Errorf("changes:\n%q\nwant\n%q", have, want)
	}
	if !got[0].Listed || got[1].Listed || !got[6].Listed {
		t.Errorf("Listed: %v %v %v", got[0].Listed, got[1].Listed, got[6].Listed)
	}
	if v, _ := w.Current(); len(v.Objects) != 4 || changes(v) != want[6] {
		t.Errorf("current view: %+v", v)
	}
}

// With ChangesOnly the views handed over have no Objects; Current does.
func TestViewChangesOnly(t *testing.T) {
	var got View
	w := NewWatcher(nil, Options{Layout: conftool.NewLayout(""), Prefix: sites, ChangesOnly: true, OnUpdate: func(v View) { got = v }})
	fullRead(w, 1)
	if v, ok := w.Current(); !ok || v.Objects == nil || len(v.Objects) != 0 {
		t.Errorf("current view of an empty prefix: %+v", v)
	}
	fullRead(w, 2, kv(sites+"a", `{"state":"up"}`, 2))
	event(w, 3, putEv(sites+"b", `{"state":"up"}`, 3))
	if got.Objects != nil || changes(got) != "+b=up" {
		t.Errorf("view handed over: %+v", got)
	}
	if v, _ := w.Current(); len(v.Objects) != 2 || v.Objects[0].Name() != "a" || v.Revision != 3 {
		t.Errorf("current view: %+v", v)
	}
}

// Random puts (some invalid), deletes and full reads: the objects folded
// from every view's changes are always the watcher's whole view, which
// stays sorted.
func TestViewChangesFold(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var views []View
	w := NewWatcher(nil, Options{Layout: conftool.NewLayout(""), Prefix: sites, OnUpdate: func(v View) { views = append(views, v) }})
	etcd := map[string]*mvccpb.KeyValue{} // what etcd holds
	folded := map[string]conftool.Object{}
	rev := int64(0)
	value := func() string {
		return []string{`{"state":"up"}`, `{"state":"down"}`, `garbage`}[rng.IntN(3)]
	}
	for step := range 3000 {
		rev++
		switch op := rng.IntN(10); {
		case op < 8:
			var evs []*clientv3.Event
			for range 1 + rng.IntN(3) {
				key := fmt.Sprintf("%ss%02d", sites, rng.IntN(40))
				if rng.IntN(4) == 0 {
					delete(etcd, key)
					evs = append(evs, delEv(key, rev))
					continue
				}
				etcd[key] = kv(key, value(), rev)
				evs = append(evs, &clientv3.Event{Type: mvccpb.PUT, Kv: etcd[key]})
			}
			event(w, rev, evs...)
		default:
			for range rng.IntN(10) { // changes missed during an outage
				key := fmt.Sprintf("%ss%02d", sites, rng.IntN(40))
				if rng.IntN(3) == 0 {
					delete(etcd, key)
				} else {
					etcd[key] = kv(key, value(), rev)
				}
			}
			kvs := slices.Collect(maps.Values(etcd))
			slices.SortFunc(kvs, func(a, b *mvccpb.KeyValue) int { return strings.Compare(string(a.Key), string(b.Key)) })
			fullRead(w, rev, kvs...)
		}
		v := views[len(views)-1]
		for _, o := range v.Changed {
			folded[o.Key] = o
		}
		for _, k := range v.Removed {
			if _, ok := folded[k]; !ok {
				t.Fatalf("step %d: %s removed but never seen", step, k)
			}
			delete(folded, k)
		}
		cur, _ := w.Current()
		if !slices.IsSortedFunc(cur.Objects, func(a, b conftool.Object) int { return strings.Compare(a.Key, b.Key) }) {
			t.Fatalf("step %d: objects not sorted", step)
		}
		byKey := map[string]conftool.Object{}
		for _, o := range cur.Objects {
			byKey[o.Key] = o
		}
		if !maps.EqualFunc(byKey, folded, func(a, b conftool.Object) bool {
			return a.ModRevision == b.ModRevision && string(a.Value) == string(b.Value)
		}) {
			t.Fatalf("step %d: folded changes %d objects, view %d", step, len(folded), len(byKey))
		}
		for _, o := range cur.Objects {
			if string(o.Value) == "garbage" {
				t.Fatalf("step %d: invalid value in the view: %s", step, o.Key)
			}
		}
	}
}
