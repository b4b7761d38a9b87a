package service

import (
	"maps"
)

// EtcdStatus is the `etcd` object of /status.
type EtcdStatus struct {
	Endpoints []string `json:"endpoints"`
	Prefix    string   `json:"prefix"`
	// Connected: every watch reaches etcd. While not, the last good
	// state stays in force.
	Connected bool `json:"connected"`
	// Revision is the latest etcd revision applied (of any watch).
	Revision int64 `json:"revision"`
	// Overrides are the sources ("etcd KEY@REVISION") of the route and
	// app-route overrides in force; OverridesRevision is the revision of
	// that set, behind Revision while a newer set is refused.
	Overrides         []string `json:"overrides"`
	OverridesRevision int64    `json:"overrides_revision"`
	// Sites are the site objects in force, as admin_state lines with
	// their source; the admin_state file wins over them.
	Sites []string `json:"sites"`
	// InvalidValues are the keys whose value does not parse, with why:
	// each object keeps its last good value.
	InvalidValues map[string]string `json:"invalid_values"`
	Watches       []WatchStatus     `json:"watches"`
}

// WatchStatus is one prefix's watcher.
type WatchStatus struct {
	Prefix    string `json:"prefix"`
	Connected bool   `json:"connected"`
	Revision  int64  `json:"revision"`
	Relists   int64  `json:"relists"`
	Rejected  int64  `json:"rejected_values"`
}

// EtcdStatus reports the etcd side; nil without etcd.
func (s *Service) EtcdStatus() *EtcdStatus {
	if s.etcd == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &EtcdStatus{Endpoints: s.etcd.opts.Endpoints, Prefix: s.etcd.opts.Layout.Prefix, Connected: true,
		Overrides: s.applied.Sources(), Sites: []string{}, InvalidValues: map[string]string{}, Watches: []WatchStatus{}}
	if s.remote != nil {
		out.Revision = s.remote.Revision
	}
	if s.applied != nil {
		out.OverridesRevision = s.applied.Revision
	}
	for _, e := range siteEntries(s.remote) {
		out.Sites = append(out.Sites, e.Pattern+" => "+e.StateString()+" ("+e.Origin("")+")")
	}
	for i, w := range s.etcd.watchers {
		ws := WatchStatus{Prefix: s.etcd.prefixes[i], Connected: w.Connected(), Revision: w.Revision(), Relists: w.Relists(), Rejected: w.Rejected()}
		out.Connected = out.Connected && ws.Connected
		out.Watches = append(out.Watches, ws)
		maps.Copy(out.InvalidValues, w.Invalid())
	}
	return out
}
