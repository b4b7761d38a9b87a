package ctl

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
)

// view reads each kind at most once per command, remembering the
// revision each was read at, so a commit can be guarded by what the
// decision was based on.
type view struct {
	store Store
	lists map[conftool.Kind]listing
}

type listing struct {
	objs []conftool.Object // sorted by key
	rev  int64
}

func newView(s Store) *view { return &view{store: s, lists: map[conftool.Kind]listing{}} }

// objects returns every object of kind k, sorted by key.
func (v *view) objects(ctx context.Context, k conftool.Kind) ([]conftool.Object, error) {
	if l, ok := v.lists[k]; ok {
		return l.objs, nil
	}
	objs, rev, err := v.store.List(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("read the %s objects: %w", k, err)
	}
	slices.SortFunc(objs, func(a, b conftool.Object) int { return strings.Compare(a.Key, b.Key) })
	v.lists[k] = listing{objs: objs, rev: rev}
	return objs, nil
}

// all returns the objects of every kind given, in that order.
func (v *view) all(ctx context.Context, kinds ...conftool.Kind) ([]conftool.Object, error) {
	var out []conftool.Object
	for _, k := range kinds {
		objs, err := v.objects(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// guards guards every kind given as it was read.
func (v *view) guards(kinds ...conftool.Kind) []etcdstore.Guard {
	var out []etcdstore.Guard
	for _, k := range kinds {
		if l, ok := v.lists[k]; ok {
			out = append(out, etcdstore.Guard{Dir: v.store.Layout().Dir(k), Revision: l.rev, Objects: l.objs})
		}
	}
	return out
}
