package etcdstore

import (
	"bytes"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/geotraffic/geotraffic/conftool"
)

// The watcher keeps its objects in a slice sorted by key rather than in a
// map: a view is then a copy, not a sort of every key per event (10,000
// node keys under one service made that milliseconds per change), and the
// objects an event changed are found by binary search. Every method here
// is called with mu held.

func (w *Watcher) find(key string) (int, bool) {
	return slices.BinarySearchFunc(w.objects, key, func(o conftool.Object, k string) int { return strings.Compare(o.Key, k) })
}

// touch notes that key's object changed since the last view; had is
// whether it had one before this change.
func (w *Watcher) touch(key string, had bool) {
	if _, ok := w.touched[key]; !ok {
		w.touched[key] = had
	}
}

// put applies a watched put: a new value, or the last good one kept when
// the new one is invalid.
func (w *Watcher) put(kv *mvccpb.KeyValue) {
	key := string(kv.Key)
	i, had := w.find(key)
	var prev conftool.Object
	if had {
		prev = w.objects[i]
	}
	o, ok := w.accept(kv, prev, had)
	switch {
	case !ok, had && o.ModRevision == prev.ModRevision:
		return
	case had:
		w.objects[i] = o
	default:
		w.objects = slices.Insert(w.objects, i, o)
	}
	w.touch(key, had)
}

// del applies a watched delete.
func (w *Watcher) del(key string) {
	if i, ok := w.find(key); ok {
		w.objects = slices.Delete(w.objects, i, i+1)
		w.touch(key, true)
	}
	delete(w.invalid, key)
}

// accept decides a key's object after a put of kv, given its current one
// (prev, if had): kv's value, or prev when kv's is invalid. ok is false
// when the key has no object: outside the layout (the audit log), or
// invalid with no good value before.
func (w *Watcher) accept(kv *mvccpb.KeyValue, prev conftool.Object, had bool) (conftool.Object, bool) {
	key := string(kv.Key)
	kind, tags, ok := w.opt.Layout.Parse(key)
	if !ok {
		return conftool.Object{}, false // the audit log and keys outside the layout are not objects
	}
	if had && prev.ModRevision == kv.ModRevision {
		return prev, true // seen already (a re-list after an outage)
	}
	o := conftool.Object{Kind: kind, Key: key, Tags: tags, Value: kv.Value, ModRevision: kv.ModRevision}
	if err := w.opt.Validate(o); err != nil {
		why := err.Error()
		if w.invalid[key] != why {
			w.rejected.Add(1)
			w.log.Warn("etcd: ignoring a value that does not parse; the object keeps its previous value",
				"key", key, "revision", kv.ModRevision, "err", err, "previous_kept", had)
		}
		w.invalid[key] = why
		return prev, had
	}
	if _, was := w.invalid[key]; was {
		delete(w.invalid, key)
		w.log.Info("etcd: value valid again", "key", key, "revision", kv.ModRevision)
	}
	return o, true
}

// replace takes a full read of the prefix (kvs) as the new set of objects,
// in one pass: keys it lacks are deleted, each present key is put.
func (w *Watcher) replace(kvs []*mvccpb.KeyValue) {
	// etcd returns a range sorted by key; the merge below relies on it.
	if !slices.IsSortedFunc(kvs, func(a, b *mvccpb.KeyValue) int { return bytes.Compare(a.Key, b.Key) }) {
		kvs = slices.Clone(kvs)
		slices.SortFunc(kvs, func(a, b *mvccpb.KeyValue) int { return bytes.Compare(a.Key, b.Key) })
	}
	old := w.objects
	next := make([]conftool.Object, 0, len(kvs))
	seen := make(map[string]bool, len(kvs))
	j := 0 // old[:j] are the keys before the current one
	for _, kv := range kvs {
		key := string(kv.Key)
		seen[key] = true
		for ; j < len(old) && old[j].Key < key; j++ {
			w.touch(old[j].Key, true) // not in the read: deleted
		}
		had := j < len(old) && old[j].Key == key
		var prev conftool.Object
		if had {
			prev, j = old[j], j+1
		}
		o, ok := w.accept(kv, prev, had)
		if !ok {
			continue
		}
		next = append(next, o)
		if !had || o.ModRevision != prev.ModRevision {
			w.touch(key, had)
		}
	}
	for ; j < len(old); j++ {
		w.touch(old[j].Key, true)
	}
	w.objects = next
	for k := range w.invalid {
		if !seen[k] {
			delete(w.invalid, k)
		}
	}
}
