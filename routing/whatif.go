package routing

import (
	"fmt"
	"slices"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

// WithDown returns a copy of st (which may be nil) with `site/X => DOWN`
// appended for each site; appended lines win, as the last matching line
// does in admin_state. st itself is not modified.
func WithDown(st *adminstate.State, sites []string) *adminstate.State {
	out := &adminstate.State{}
	if st != nil {
		out.File, out.Digest = st.File, st.Digest
		out.Entries = slices.Clone(st.Entries)
	}
	for _, s := range sites {
		out.Entries = append(out.Entries, adminstate.Entry{Pattern: SiteKey(s), Down: true})
	}
	return out
}

// Change is the before/after of one cluster and entry site.
type Change struct {
	Cluster string `json:"cluster"`
	Site    string `json:"site"`
	Changed bool   `json:"changed"`
	Before  Result `json:"before"`
	After   Result `json:"after"`
}

// WhatIf resolves cfg under st and under st with the given sites DOWN, and
// pairs the results. Unknown sites are an error, so a typo is not
// mistaken for "nothing changes".
func WhatIf(cfg *Config, st *adminstate.State, down []string) ([]Change, error) {
	if len(down) == 0 {
		return nil, fmt.Errorf("what-if: no site to take down")
	}
	for _, s := range down {
		if _, ok := cfg.Sites[s]; !ok {
			return nil, fmt.Errorf("what-if: unknown site %q (sites: %v)", s, sortedKeys(cfg.Sites))
		}
	}
	before, after := Resolve(cfg, st), Resolve(cfg, WithDown(st, down))
	out := make([]Change, len(before))
	for i := range before { // same config, so the same (cluster, site) order
		out[i] = Change{Cluster: before[i].Cluster, Site: before[i].Site, Before: before[i], After: after[i],
			Changed: !SameRoute(before[i], after[i])}
	}
	return out, nil
}

// SameRoute reports whether two results route alike: same status, path,
// reasons and app choices (details aside, which name admin_state lines).
func SameRoute(a, b Result) bool {
	if a.Status != b.Status || !slices.Equal(a.Path, b.Path) || len(a.Reasons) != len(b.Reasons) || len(a.Apps) != len(b.Apps) {
		return false
	}
	for i := range a.Reasons {
		if a.Reasons[i].Reason != b.Reasons[i].Reason || a.Reasons[i].Next != b.Reasons[i].Next {
			return false
		}
	}
	for name, x := range a.Apps {
		y, ok := b.Apps[name]
		if !ok || x.DC != y.DC || x.Backend != y.Backend || x.Reason != y.Reason {
			return false
		}
	}
	return true
}
