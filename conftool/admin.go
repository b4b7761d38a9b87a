package conftool

import (
	"cmp"
	"slices"
	"strconv"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

// ToAdminState turns the site and admin-state objects among objs into an
// admin_state, as if each were a line of the file: site NAME down is
// `site/NAME => DOWN`. Entries are ordered by modification revision, so of
// two objects whose keys match the same name, the one changed last wins,
// as the last line of a file does. Objects whose value does not parse are
// returned in bad (with the key) and left out; etcdstore.Watcher, given
// Validate, already keeps the last good value of such an object instead.
func ToAdminState(objs []Object, rev int64) (st *adminstate.State, bad []error) {
	sorted := slices.Clone(objs)
	slices.SortFunc(sorted, func(a, b Object) int {
		return cmp.Or(cmp.Compare(a.ModRevision, b.ModRevision), cmp.Compare(a.Key, b.Key))
	})
	st = &adminstate.State{Digest: "etcd@" + strconv.FormatInt(rev, 10)}
	for _, o := range sorted {
		e, ok, err := AdminEntry(o)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		if ok {
			st.Entries = append(st.Entries, e)
		}
	}
	return st, bad
}

// AdminEntry is the admin_state entry of a site or admin-state object; ok
// is false for other kinds.
func AdminEntry(o Object) (e adminstate.Entry, ok bool, err error) {
	var line string
	switch o.Kind {
	case Site:
		v, err := ParseSite(o.Value)
		if err != nil {
			return e, false, AtKey(o.Key, err)
		}
		state := "UP"
		if v.State == "down" {
			state = "DOWN"
		}
		line = strconv.Quote("site/"+o.Name()) + " => " + state
	case AdminState:
		v, err := ParseAdminState(o.Value)
		if err != nil {
			return e, false, AtKey(o.Key, err)
		}
		line = strconv.Quote(o.Name()) + " => " + v.State
		if v.TTL != nil {
			line += "/" + strconv.FormatUint(uint64(*v.TTL), 10)
		}
	default:
		return e, false, nil
	}
	// The file's parser checks the key as it checks a line (globs included).
	st, err := adminstate.Parse(o.Key, []byte(line))
	if err != nil {
		return e, false, AtKey(o.Key, err)
	}
	e = st.Entries[0]
	e.Line, e.Source, e.Key, e.Revision = 0, "etcd", o.Key, o.ModRevision
	return e, true, nil
}
