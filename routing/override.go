package routing

import (
	"maps"
	"strings"
)

// Overrides replace route_table entries and app routes of a Config: route
// state kept outside routing.yaml (etcd), read with ParseRouteValue and
// ParseAppRouteValue.
type Overrides struct {
	Routes    map[string]map[string]RouteSpec    // cluster -> entry site -> route
	AppRoutes map[string]map[string]AppRouteSpec // cluster -> app -> route
}

// WithOverrides returns a new Config in which the overridden route_table
// entries and app routes replace the file's, validated as Parse validates
// a file; cfg itself is not modified, and the two share what no override
// touches (Configs are read-only). An override for a site with no
// route_table entry in its cluster adds one (the site must be under
// sites:); one for an unknown cluster or app is an error. Problems in an
// override are reported as `KEY (override): reason`, with the cycle of a
// loop; Warnings are those of the result.
func (cfg *Config) WithOverrides(ov Overrides) (*Config, error) {
	l := &errList{file: cfg.File}
	out := &Config{File: cfg.File, Sites: cfg.Sites, Clusters: maps.Clone(cfg.Clusters)}
	edit := func(cname string) *Cluster {
		c, ok := cfg.Clusters[cname]
		if !ok {
			l.add(overrideLine, join("clusters", cname), "unknown cluster %q (clusters: %s)", cname, strings.Join(cfg.ClusterNames(), ", "))
			return nil
		}
		if out.Clusters[cname] == c { // copy on first edit
			out.Clusters[cname] = c.clone()
		}
		return out.Clusters[cname]
	}
	for _, cname := range sortedKeys(ov.Routes) {
		if c := edit(cname); c != nil {
			overrideRoutes(l, c, ov.Routes[cname])
		}
	}
	for _, cname := range sortedKeys(ov.AppRoutes) {
		if c := edit(cname); c != nil {
			overrideApps(l, c, ov.AppRoutes[cname])
		}
	}
	if l.len() == 0 {
		validate(l, out)
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	out.Warnings = l.warns.Sorted()
	return out, nil
}

// clone copies what an override may replace (the route and app maps);
// the rest is shared, being read-only.
func (c *Cluster) clone() *Cluster {
	cp := *c
	cp.Routes, cp.Apps = maps.Clone(c.Routes), maps.Clone(c.Apps)
	return &cp
}

func overrideRoutes(l *errList, c *Cluster, specs map[string]RouteSpec) {
	tbl := join(join("clusters", c.Name), "route_table")
	for _, site := range sortedKeys(specs) {
		if r, ok := overrideRoute(l, site, specs[site], join(tbl, site)); ok {
			c.Routes[site] = r
		}
	}
}

// overrideRoute turns a spec into a route, refusing what a route_table
// entry refuses: a spec may be built by hand, not only by ParseRouteValue.
func overrideRoute(l *errList, site string, s RouteSpec, p string) (Route, bool) {
	r := Route{Site: site, Line: overrideLine, Direct: s.Direct, Override: true, Source: s.Source}
	switch {
	case s.Direct && len(s.Choices) > 0:
		l.add(overrideLine, p, "both direct and choices: `direct` must be the whole entry")
		return r, false
	case s.Direct:
		return r, true
	case len(s.Choices) == 0:
		l.add(overrideLine, p, "empty list of choices")
		return r, false
	}
	for _, hop := range s.Choices {
		if !addChoice(l, &r, overrideName(l, hop, p), overrideLine, p) {
			return r, false
		}
	}
	return r, noRepeat(l, r.Choices, r.choiceLines, p, "choice")
}

func overrideApps(l *errList, c *Cluster, specs map[string]AppRouteSpec) {
	apps := join(join("clusters", c.Name), "apps")
	for _, aname := range sortedKeys(specs) {
		a, ok := c.Apps[aname]
		if !ok {
			l.add(overrideLine, join(apps, aname), "unknown app %q (apps: %s)", aname, strings.Join(c.AppNames(), ", "))
			continue
		}
		if cp, ok := overrideApp(l, a, specs[aname], join(join(apps, aname), "route")); ok {
			c.Apps[aname] = cp
		}
	}
}

// overrideApp returns a copy of a with the route of s; the backends stay
// the file's.
func overrideApp(l *errList, a *App, s AppRouteSpec, p string) (*App, bool) {
	if s.Mode != Ordered && s.Mode != ActiveActive {
		l.add(overrideLine, p, "unknown mode %q (expected %s or %s)", s.Mode, Ordered, ActiveActive)
		return nil, false
	}
	if len(s.DCs) == 0 {
		l.add(overrideLine, p, "expected a DC or a non-empty list of DCs")
		return nil, false
	}
	cp := *a
	cp.Mode, cp.DCs, cp.dcLines, cp.Override, cp.Source = s.Mode, nil, nil, true, s.Source
	for _, dc := range s.DCs {
		if overrideName(l, dc, p) == "" {
			return nil, false
		}
		cp.DCs = append(cp.DCs, dc)
		cp.dcLines = append(cp.dcLines, overrideLine)
	}
	return &cp, noRepeat(l, cp.DCs, cp.dcLines, p, "DC")
}

// overrideName refuses an empty name as name() does for the file.
func overrideName(l *errList, n, p string) string {
	if n == "" {
		l.add(overrideLine, p, "expected a name")
	}
	return n
}
