package etcdstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/internal/testetcd"
)

// TestCommitGuarded checks etcd's range compares as CommitGuarded uses
// them: a guard refuses a creation, a modification or a deletion under
// its directory since it was read, and nothing else.
func TestCommitGuarded(t *testing.T) {
	e := testetcd.Start(t)
	cli := e.Client(t)
	l := conftool.NewLayout("")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sites := l.Dir(conftool.Site)
	for _, tc := range []struct {
		name       string
		meanwhile  func() // a concurrent writer, between the read and the commit
		emptyGuard bool   // guard a directory with nothing in it
		conflict   bool
	}{
		{name: "nothing changed"},
		{name: "an empty directory", emptyGuard: true},
		{name: "a key elsewhere changed", meanwhile: func() { put(t, cli, l.Dir(conftool.Node)+"eqiad/a/b/h", `{"weight":1,"pooled":"yes"}`) }},
		{name: "a guarded key changed", conflict: true, meanwhile: func() { put(t, cli, sites+"codfw", `{"state":"down"}`) }},
		{name: "a guarded key created", conflict: true, meanwhile: func() { put(t, cli, sites+"ulsfo", `{"state":"up"}`) }},
		{name: "a guarded key deleted", conflict: true, meanwhile: func() {
			if _, err := cli.Delete(ctx, sites+"codfw"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := cli.Delete(ctx, "/", clientv3.WithPrefix()); err != nil {
				t.Fatal(err)
			}
			put(t, cli, sites+"codfw", `{"state":"up"}`)
			put(t, cli, sites+"eqiad", `{"state":"up"}`)
			dir := sites
			if tc.emptyGuard {
				dir = l.Dir(conftool.Route)
			}
			guarded, rev, err := List(ctx, cli, l, dir)
			if err != nil {
				t.Fatal(err)
			}
			objs, _, err := List(ctx, cli, l, sites)
			if err != nil {
				t.Fatal(err)
			}
			eqiad := objs[1]
			if tc.meanwhile != nil {
				tc.meanwhile()
			}
			_, err = CommitGuarded(ctx, cli, l, []Change{{Key: eqiad.Key, Old: &eqiad, New: []byte(`{"state":"down"}`)}},
				[]Guard{{Dir: dir, Revision: rev, Objects: guarded}}, AuditRecord{Who: "test", Command: tc.name})
			if got := errors.Is(err, ErrConflict); got != tc.conflict || (err != nil && !got) {
				t.Fatalf("commit: %v, want conflict %v", err, tc.conflict)
			}
			recs, err := Log(ctx, cli, l, 0)
			if err != nil {
				t.Fatal(err)
			}
			if written := len(recs) == 1; written == tc.conflict {
				t.Errorf("conflict %v, yet %d audit records", tc.conflict, len(recs))
			}
		})
	}
}

func TestCommitTooManyCompares(t *testing.T) {
	e := testetcd.Start(t)
	cli := e.Client(t)
	l := conftool.NewLayout("")
	var objs []conftool.Object
	for i := range maxTxnOps {
		objs = append(objs, conftool.Object{Key: l.Dir(conftool.Route) + "text/s" + strings.Repeat("x", i+1), ModRevision: 1})
	}
	_, err := CommitGuarded(context.Background(), cli, l, []Change{{Key: l.Dir(conftool.Site) + "a", New: []byte(`{"state":"up"}`)}},
		[]Guard{{Dir: l.Dir(conftool.Route), Revision: 1, Objects: objs}}, AuditRecord{})
	if err == nil || !strings.Contains(err.Error(), "compares at most 128") {
		t.Errorf("%d guarded objects: %v", len(objs), err)
	}
}
