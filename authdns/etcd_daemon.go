package authdns

import (
	"context"
	"slices"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

// startEtcdLocked follows etcd with set (nil: no etcd), replacing the
// follower running now unless it already runs with the same settings.
// The last state from etcd keeps applying until the new follower has read
// etcd once: new settings that do not work yet must not un-force a site.
// Called with d.mu held.
func (d *Daemon) startEtcdLocked(set *etcdSettings) {
	old := d.etcd.Load()
	if old != nil && old.set.same(set) {
		return
	}
	if old != nil {
		old.stop()
	}
	if set == nil {
		d.etcd.Store(nil)
		return
	}
	f := newEtcdFollower(set, d.log, d.onEtcd)
	// Started before it is visible, as stopEtcd may stop it at once; its
	// first update cannot be missed, as onEtcd waits for d.mu, held here.
	f.start(d.ctx)
	d.etcd.Store(f)
	d.log.Info("etcd: following site and admin-state objects", "endpoints", set.cfg.Endpoints, "prefix", set.cfg.Prefix)
}

// onEtcd applies the state of f's objects now, as onAdmin applies a file:
// precomputed, then swapped in.
func (d *Daemon) onEtcd(f *etcdFollower) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.etcd.Load() != f {
		return // replaced by a reload, or stopped
	}
	st, rev, ok := f.state()
	if !ok {
		return
	}
	cur := d.state.Load()
	if cur.AdminEtcd != nil && slices.Equal(cur.AdminEtcd.Entries, st.Entries) {
		return // a refused value or an unrelated key: nothing to apply
	}
	next := cur.WithEtcd(st)
	d.swap(next)
	d.logEtcdChanges(cur.AdminEtcd, next, rev)
}

// logEtcdChanges logs each changed key once, in gdnsd's words, and warns
// when the local file overrides what etcd just set, since an operator who
// changed etcd expects answers to move.
func (d *Daemon) logEtcdChanges(old *adminstate.State, next *State, rev int64) {
	st := next.AdminEtcd
	for _, c := range adminstate.Diff(old, st) {
		d.log.Info("admin_state: "+c, "source", "etcd", "revision", rev)
	}
	seen := map[string]bool{}
	if old != nil {
		for _, e := range old.Entries {
			seen[e.Key+"\x00"+e.StateString()] = true
		}
	}
	for _, e := range st.Entries {
		if seen[e.Key+"\x00"+e.StateString()] {
			continue
		}
		if i := next.Admin.Find(e.Pattern); i >= 0 && next.Admin.Entries[i].Source == "" {
			w := next.Admin.Entries[i]
			d.log.Warn("etcd: the local admin_state file overrides this object", "key", e.Key, "etcd_state", e.StateString(),
				"file_state", w.StateString(), "forced_by", w.Origin(next.Admin.File))
		}
	}
	d.log.Info("admin_state: etcd state applied", "revision", rev, "entries", st.Len(), "in_force", next.Admin.Len())
}

// etcdStatus is the status of the follower, nil without etcd.
func (d *Daemon) etcdStatus(st *State) *EtcdStatus {
	f := d.etcd.Load()
	if f == nil {
		return nil
	}
	s := f.status()
	s.Entries = st.AdminEtcd.Len()
	return &s
}

// stopEtcd ends the follower, waiting for it (bounded by ctx) so its client
// is closed before the daemon returns. Called without d.mu: the follower's
// last callback may be waiting for it.
func (d *Daemon) stopEtcd(ctx context.Context) {
	f := d.etcd.Swap(nil)
	if f == nil {
		return
	}
	f.stop()
	f.wait(ctx)
}
