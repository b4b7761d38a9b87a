package ctl

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
)

// Store is where the objects live: etcd, or a fake in unit tests.
type Store interface {
	// Layout is the key layout (the prefix).
	Layout() conftool.Layout
	// List reads every object of kind k, and the revision it was read at.
	List(ctx context.Context, k conftool.Kind) ([]conftool.Object, int64, error)
	// Commit writes the changes and the audit record in one transaction,
	// failing with etcdstore.ErrConflict if a changed object or anything
	// under a guard changed since it was read.
	Commit(ctx context.Context, changes []etcdstore.Change, guards []etcdstore.Guard, rec etcdstore.AuditRecord) (int64, error)
	// Log reads the last n audit records (all when n <= 0), oldest first.
	Log(ctx context.Context, n int) ([]etcdstore.AuditRecord, error)
}

// EtcdStore is the Store of a real etcd.
type EtcdStore struct {
	Client *clientv3.Client
	L      conftool.Layout
}

// Layout implements Store.
func (s EtcdStore) Layout() conftool.Layout { return s.L }

// List implements Store.
func (s EtcdStore) List(ctx context.Context, k conftool.Kind) ([]conftool.Object, int64, error) {
	return etcdstore.List(ctx, s.Client, s.L, s.L.Dir(k))
}

// Commit implements Store.
func (s EtcdStore) Commit(ctx context.Context, changes []etcdstore.Change, guards []etcdstore.Guard, rec etcdstore.AuditRecord) (int64, error) {
	return etcdstore.CommitGuarded(ctx, s.Client, s.L, changes, guards, rec)
}

// Log implements Store.
func (s EtcdStore) Log(ctx context.Context, n int) ([]etcdstore.AuditRecord, error) {
	return etcdstore.Log(ctx, s.Client, s.L, n)
}
