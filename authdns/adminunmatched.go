package authdns

import (
	"slices"

	"github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/geo"
)

// unmatchedAdmin lists, as "ORIGIN: PATTERN", the admin_state entries
// (file and etcd) whose key or glob matches no key g knows: no site, map,
// resource data centre or monitored address/service. Such an entry, often
// a typo (`site/eqaid => DOWN`), changes nothing; gdnsd warns about it
// too. Without a geoip section every entry is unmatched.
func unmatchedAdmin(g *geo.Geo, admin *adminstate.State) []string {
	if admin == nil || len(admin.Entries) == 0 {
		return nil
	}
	var keys []string
	if g != nil {
		keys = g.AdminKeys()
	}
	var out []string
	for _, e := range admin.Entries {
		if !slices.ContainsFunc(keys, func(k string) bool { return adminstate.Match(e.Pattern, k) }) {
			out = append(out, e.Origin(admin.File)+": "+e.Pattern)
		}
	}
	return out
}

// warnUnmatchedAdmin logs, once each, the entries of st that match
// nothing and did not already in old (nil at start).
func (d *Daemon) warnUnmatchedAdmin(old, st *State) {
	var before []string
	if old != nil {
		if old.Admin == st.Admin && old.Geo == st.Geo {
			return
		}
		before = old.AdminUnmatched
	}
	for _, u := range st.AdminUnmatched {
		if !slices.Contains(before, u) {
			d.log.Warn("admin_state: entry matches nothing this server knows (no site, map, resource or monitored address of the geoip configuration); it changes nothing here. A typo?",
				"entry", u)
		}
	}
}
