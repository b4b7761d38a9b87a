package ctl

import (
	"fmt"
	"slices"
	"strings"

	"github.com/geotraffic/geotraffic/conftool"
)

// knownSites are the sites a node's dc, a site object, a route and an
// app-route may name: routing.yaml's `sites:` with --routing, else the
// site objects in etcd. With neither, names are not checked (a plain
// conftool set-up with nodes only).
type knownSites struct {
	names  map[string]bool // nil: not checked
	source string
}

func sitesFromNames(names []string, source string) knownSites {
	ks := knownSites{names: map[string]bool{}, source: source}
	for _, n := range names {
		ks.names[n] = true
	}
	return ks
}

// sitesFromObjects is knownSites from the site objects in etcd.
func sitesFromObjects(objs []conftool.Object) knownSites {
	if len(objs) == 0 {
		return knownSites{source: "no routing.yaml and no site object in etcd"}
	}
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = o.Name()
	}
	return sitesFromNames(names, "the site objects in etcd (pass --routing to check against routing.yaml)")
}

// check refuses a name that is not a known site; what says what names it.
func (ks knownSites) check(what, name string) error {
	if ks.names == nil || ks.names[name] {
		return nil
	}
	known := make([]string, 0, len(ks.names))
	for n := range ks.names {
		known = append(known, n)
	}
	slices.Sort(known)
	return fmt.Errorf("%s %q is not a known site (known, from %s: %s)", what, name, ks.source, strings.Join(known, ", "))
}

// siteOfAdminKey is the site an admin-state key names, for `site/NAME`.
func siteOfAdminKey(key string) (string, bool) {
	name, ok := strings.CutPrefix(key, "site/")
	if !ok || strings.ContainsAny(name, `*?[\/`) {
		return "", false
	}
	return name, true
}

// mayNameSite reports whether an admin_state pattern could force some
// `site/NAME` key: its text before the first glob character is a prefix
// of "site/" or starts with it. Conservative, as it decides whether the
// routing check is needed.
func mayNameSite(pattern string) bool {
	lit := pattern
	if i := strings.IndexAny(pattern, `*?[\`); i >= 0 {
		lit = pattern[:i]
		return strings.HasPrefix("site/", lit) || strings.HasPrefix(lit, "site/")
	}
	return strings.HasPrefix(lit, "site/")
}
