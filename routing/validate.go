package routing

import (
	"slices"
	"strings"
)

// validate checks cross-references once the file parsed cleanly: every
// name is a known site, every cluster has a direct site, the graph of all
// configured choices has no loop (so any choice path ends), every next hop
// has a route of its own, and every app DC has a backend.
func validate(l *errList, cfg *Config) {
	for _, cname := range cfg.ClusterNames() {
		c := cfg.Clusters[cname]
		base := join("clusters", cname)
		tbl := join(base, "route_table")
		hasDirect := false
		for _, site := range c.SiteNames() {
			r := c.Routes[site]
			p := join(tbl, site)
			if _, ok := cfg.Sites[site]; !ok {
				l.add(r.Line, p, "unknown site %q (not under sites:)", site)
			}
			hasDirect = hasDirect || r.Direct
			for i, hop := range r.Choices {
				line := r.choiceLines[i]
				switch _, known := cfg.Sites[hop]; {
				case hop == site:
					l.add(line, p, "loop: %s routes to itself", site)
				case !known:
					l.add(line, p, "unknown site %q (not under sites:)", hop)
				default:
					if _, ok := c.Routes[hop]; !ok {
						l.add(line, p, "next hop %q has no route_table entry in cluster %s, so %s cannot reach direct through it", hop, cname, site)
					}
				}
			}
		}
		if len(c.Routes) > 0 && !hasDirect {
			noDirect(l, c, tbl)
		}
		findLoops(l, c, tbl)
		for _, site := range sortedKeys(c.Shutdown) {
			line := c.Shutdown[site]
			p := join(base, "traffic_shutdown")
			if _, ok := cfg.Sites[site]; !ok {
				l.add(line, p, "unknown site %q (not under sites:)", site)
			} else if _, ok := c.Routes[site]; !ok {
				l.add(line, p, "site %q has no route_table entry in cluster %s", site, cname)
			}
		}
		for _, aname := range c.AppNames() {
			a := c.Apps[aname]
			p := join(join(base, "apps"), aname)
			for _, dc := range sortedKeys(a.Backends) {
				if _, ok := cfg.Sites[dc]; !ok {
					l.add(a.backendLines[dc], join(join(p, "backends"), dc), "unknown site %q (not under sites:)", dc)
				} else if !slices.Contains(a.DCs, dc) {
					route := "route"
					if a.Override {
						route = "overridden route"
					}
					l.warn(a.backendLines[dc], join(join(p, "backends"), dc),
						"backend %s is never used: %q is not in the app's %s, so this app never goes there and %s cannot be promoted to direct for it", a.Backends[dc], dc, route, dc)
				}
			}
			for i, dc := range a.DCs {
				line := a.dcLines[i]
				if _, ok := cfg.Sites[dc]; !ok {
					l.add(line, join(p, "route"), "unknown site %q (not under sites:)", dc)
				} else if _, ok := a.Backends[dc]; !ok {
					l.add(line, join(p, "route"), "DC %q has no backend under backends:", dc)
				}
			}
		}
	}
}

// findLoops reports every cycle in the graph of all configured choices,
// once each, at the line of the choice that closes it.
func findLoops(l *errList, c *Cluster, tbl string) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(site string)
	visit = func(site string) {
		color[site] = grey
		stack = append(stack, site)
		r := c.Routes[site]
		for i, hop := range r.Choices {
			if _, ok := c.Routes[hop]; !ok || hop == site {
				continue // reported by validate
			}
			switch color[hop] {
			case white:
				visit(hop)
			case grey:
				start := 0
				for j, s := range stack {
					if s == hop {
						start = j
					}
				}
				cycle := append(append([]string{}, stack[start:]...), hop)
				reportLoop(l, c, tbl, site, cycle, r.choiceLines[i])
			}
		}
		stack = stack[:len(stack)-1]
		color[site] = black
	}
	for _, site := range c.SiteNames() {
		if color[site] == white {
			visit(site)
		}
	}
}

// reportLoop reports a cycle (its first site repeated at the end) at the
// choice of site that closed it, unless an override is part of it: the
// override is then what to undo (the file alone had no loop), so the loop
// is reported at the first overridden site, starting there.
func reportLoop(l *errList, c *Cluster, tbl, site string, cycle []string, line int) {
	sites := cycle[:len(cycle)-1]
	for i, s := range sites {
		if c.Routes[s].Override {
			cycle = append(append(slices.Clone(sites[i:]), sites[:i]...), s)
			site, line = s, overrideLine
			break
		}
	}
	l.add(line, join(tbl, site), "loop: %s", strings.Join(cycle, " -> "))
}

// noDirect reports a cluster without a direct site; with overrides, at
// the override (the file had one), naming the overridden entries.
func noDirect(l *errList, c *Cluster, tbl string) {
	var over []string
	for _, site := range c.SiteNames() {
		if c.Routes[site].Override {
			over = append(over, site)
		}
	}
	if len(over) == 0 {
		l.add(c.Line, tbl, "no site is direct: nothing can reach the applications")
		return
	}
	l.add(overrideLine, tbl, "no site is direct once overridden (%s): nothing can reach the applications", strings.Join(over, ", "))
}
