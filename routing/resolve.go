package routing

import (
	"fmt"
	"slices"
	"strings"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

// SiteKey is the admin_state key that marks a site DOWN for routing (the
// same file also carries geoip/... keys for GeoDNS, which routing ignores).
func SiteKey(site string) string { return "site/" + site }

// Down reports whether admin_state marks site DOWN, and a description of
// the line that does so, for explanations.
func Down(st *adminstate.State, site string) (bool, string) {
	e, ok := st.Lookup(SiteKey(site))
	if !ok || !e.Down {
		return false, ""
	}
	switch {
	case e.Source != "": // from etcd: name the key to change, not a line
		return true, fmt.Sprintf("%s is DOWN (%s)", site, e.Origin(""))
	case e.Line == 0: // added by WithDown, not read from a file
		return true, site + " is DOWN (what-if)"
	}
	return true, fmt.Sprintf("%s is DOWN (admin_state line %d: %s => %s)", site, e.Line, e.Pattern, e.StateString())
}

// Resolve resolves every cluster for every entry site, sorted by cluster
// then site. It is a pure function of its arguments; st may be nil.
func Resolve(cfg *Config, st *adminstate.State) []Result {
	downs := downSet(cfg, st)
	var out []Result
	for _, cname := range cfg.ClusterNames() {
		out = append(out, resolveCluster(cfg, cfg.Clusters[cname], downs)...)
	}
	return out
}

// downSet maps each DOWN site of cfg to why; looked up once per
// resolution because admin_state lookups walk every line.
func downSet(cfg *Config, st *adminstate.State) map[string]string {
	out := map[string]string{}
	for name := range cfg.Sites {
		if d, why := Down(st, name); d {
			out[name] = why
		}
	}
	return out
}

// decision is one site's own choice of next hop under the current state.
type decision struct {
	next     string // "" when terminal or unreachable
	terminal bool   // the site talks to the applications itself
	reason   string
	// choice is the index of the ordered choice taken, or -1: a later
	// pass moves a site to an earlier choice, never to a later one.
	choice int
	// explain builds the detail from why the skipped choices were
	// unusable. Details are built only once every decision is final,
	// because a choice skipped early may be usable, or skipped for
	// another reason, after the sites it depends on were rerouted.
	explain func(skipped string) string
	detail  string
}

// ResolveCluster resolves one cluster for each of its entry sites, sorted.
//
// Each site decides, in this order of preference: configured direct; the
// first of its ordered choices that is up and whose own resolved path
// reaches direct without a DOWN site and without coming back through the
// site (a later one is a "fallback"); promotion to direct if it is up and a
// DC of some app's route; else the nearest (great-circle) up site that
// reaches direct along configured choices without passing a DOWN site;
// else unreachable. See decideConfigured, decideNearest and preferChoices
// for how the passes keep every path free of loops.
func ResolveCluster(cfg *Config, c *Cluster, st *adminstate.State) []Result {
	return resolveCluster(cfg, c, downSet(cfg, st))
}

func resolveCluster(cfg *Config, c *Cluster, downs map[string]string) []Result {
	dec, usable := decideConfigured(c, downs)
	decideNearest(cfg, c, downs, dec, usable)
	preferChoices(c, downs, dec)
	describe(c, downs, dec)
	out := make([]Result, 0, len(c.Routes))
	for _, site := range c.SiteNames() {
		out = append(out, result(cfg, c, downs, site, dec))
	}
	return out
}

// decideConfigured decides every site that needs no nearest jump, in
// topological order of the (validated, acyclic) choice graph, so each
// choice is settled before the sites that use it. usable holds the sites
// that are up and reach direct this way: the only nearest targets, since
// their paths then use no nearest jump and so cannot lead back to the site
// that jumps (preferChoices may change those paths later, but only in
// ways that keep them free of loops).
func decideConfigured(c *Cluster, downs map[string]string) (map[string]*decision, map[string]bool) {
	dec := map[string]*decision{}
	usable := map[string]bool{}
	for _, site := range topoOrder(c) {
		r := c.Routes[site]
		_, down := downs[site]
		var d *decision
		switch i := slices.IndexFunc(r.Choices, func(hop string) bool { return usable[hop] }); {
		case r.Direct:
			d = &decision{terminal: true, reason: ReasonConfigured, choice: -1}
		case i >= 0:
			d = choiceDecision(r.Choices, i)
		case !down && len(c.routedApps(site)) > 0:
			apps := strings.Join(c.routedApps(site), ", ")
			d = &decision{terminal: true, reason: ReasonPromoted, choice: -1, explain: func(skipped string) string {
				return fmt.Sprintf("no usable upstream (%s); %s is up and a DC of the route of %s", skipped, site, apps)
			}}
		}
		if d != nil {
			dec[site] = d
			usable[site] = !down
		}
	}
	return dec, usable
}

// choiceDecision takes the i-th of choices.
func choiceDecision(choices []string, i int) *decision {
	if i == 0 {
		return &decision{next: choices[0], reason: ReasonConfigured}
	}
	return &decision{next: choices[i], reason: ReasonFallback, choice: i, explain: func(skipped string) string {
		return fmt.Sprintf("choice %d of %d; skipped: %s", i+1, len(choices), skipped)
	}}
}

// decideNearest gives each site still undecided the nearest usable site,
// or marks it unreachable.
func decideNearest(cfg *Config, c *Cluster, downs map[string]string, dec map[string]*decision, usable map[string]bool) {
	var targets []string
	for _, s := range c.SiteNames() {
		if usable[s] {
			targets = append(targets, s)
		}
	}
	for _, site := range c.SiteNames() {
		if dec[site] != nil {
			continue
		}
		if t, km, ok := nearest(cfg.Sites, site, without(targets, site)); ok {
			dec[site] = &decision{next: t, reason: ReasonNearest, choice: -1, explain: func(skipped string) string {
				return fmt.Sprintf("no usable choice (%s); %s is the nearest up site that reaches direct (%.0f km)", skipped, t, km)
			}}
			continue
		}
		notPromoted := whyNotPromoted(c, downs, site)
		dec[site] = &decision{reason: ReasonUnreachable, choice: -1, explain: func(skipped string) string {
			return fmt.Sprintf("no usable choice (%s); %s cannot be promoted (%s); no up site reaches direct", skipped, site, notPromoted)
		}}
	}
}

// fromSource names where an overridden route came from, so that an
// explanation points at what to change (an etcd key), not at routing.yaml.
func fromSource(what, source string) string {
	if source == "" {
		return ""
	}
	return "; " + what + " from " + source
}

func result(cfg *Config, c *Cluster, downs map[string]string, entry string, dec map[string]*decision) Result {
	_, entryDown := downs[entry]
	res := Result{Cluster: c.Name, Site: entry, EntryDown: entryDown, Path: []string{entry}, Apps: map[string]AppRoute{}}
	if _, shut := c.Shutdown[entry]; shut {
		res.Status = StatusShutdown
		res.Reasons = []Reason{{Site: entry, Reason: ReasonShutdown,
			Detail: fmt.Sprintf("traffic_shutdown: frontends of cluster %s at %s refuse all traffic", c.Name, entry)}}
		for _, a := range c.AppNames() {
			res.Apps[a] = AppRoute{Reason: ReasonShutdown, Detail: "entry site refuses all traffic"}
		}
		return res
	}
	cur := entry
	// Bounded: decisions form chains without cycles (see ResolveCluster),
	// but a bound keeps a future bug from hanging a server.
	for range len(c.Routes) + 1 {
		d := dec[cur]
		next := d.next
		if d.terminal {
			next = "direct"
		}
		res.Reasons = append(res.Reasons, Reason{Site: cur, Next: next, Reason: d.reason, Detail: d.detail})
		if d.terminal {
			res.Status = StatusOK
			break
		}
		if d.next == "" {
			res.Status = StatusUnreachable
			break
		}
		cur = d.next
		res.Path = append(res.Path, cur)
	}
	if res.Status == "" {
		res.Status = StatusUnreachable
		res.Reasons = append(res.Reasons, Reason{Site: cur, Reason: ReasonUnreachable, Detail: "internal error: path did not end; refusing to guess"})
	}
	if why, isDown := downs[entry]; isDown {
		res.Reasons[0].Detail += fmt.Sprintf("; the entry site itself: %s, so only clients with stale DNS should arrive here", why)
	}
	pathOK := res.Status == StatusOK
	for _, a := range c.AppNames() {
		if !pathOK {
			res.Apps[a] = AppRoute{Reason: ReasonUnreachable, Detail: "no cache path to a direct site"}
			continue
		}
		app := resolveApp(cfg, c.Apps[a], downs, res.Path)
		app.Detail += fromSource("app route", c.Apps[a].Source)
		res.Apps[a] = app
		if res.Apps[a].Reason == ReasonUnreachable {
			// A valid path that some app cannot use is not "ok".
			res.Status = StatusDegraded
		}
	}
	return res
}

// UnreachableApps lists the apps of r with no valid DC, sorted.
func UnreachableApps(r Result) []string {
	var out []string
	for _, name := range sortedKeys(r.Apps) {
		if r.Apps[name].Reason == ReasonUnreachable {
			out = append(out, name)
		}
	}
	return out
}

func whyNotPromoted(c *Cluster, downs map[string]string, site string) string {
	if why, d := downs[site]; d {
		return why
	}
	return "no app's route names " + site + " as a DC"
}

func resolveApp(cfg *Config, a *App, downs map[string]string, path []string) AppRoute {
	var skipped, up []string
	for _, dc := range a.DCs {
		if why, d := downs[dc]; d {
			skipped = append(skipped, why)
		} else {
			up = append(up, dc)
		}
	}
	pick := func(dc, reason, detail string) AppRoute {
		return AppRoute{DC: dc, Backend: a.Backends[dc], Reason: reason, Detail: detail}
	}
	if len(up) == 0 {
		return AppRoute{Reason: ReasonUnreachable, Detail: "every DC of the route is DOWN: " + strings.Join(skipped, "; ")}
	}
	if a.Mode == Ordered {
		if up[0] == a.DCs[0] {
			return pick(up[0], ReasonConfigured, "first DC of the route")
		}
		return pick(up[0], ReasonFallback, "skipped: "+strings.Join(skipped, "; "))
	}
	for _, p := range path {
		for _, dc := range up {
			if p == dc {
				return pick(dc, ReasonConfigured, fmt.Sprintf("active-active: %s is the first of its DCs on the cache path", dc))
			}
		}
	}
	direct := path[len(path)-1]
	dc, km, _ := nearest(cfg.Sites, direct, up)
	return pick(dc, ReasonNearest, fmt.Sprintf("active-active: none of its up DCs is on the cache path; %s is the nearest to %s (%.0f km)", dc, direct, km))
}

func without(list []string, s string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// topoOrder lists the cluster's sites so that every site comes after all
// of its choices (post-order DFS; the graph is acyclic after validation).
func topoOrder(c *Cluster) []string {
	seen := map[string]bool{}
	var out []string
	var visit func(string)
	visit = func(s string) {
		if seen[s] {
			return
		}
		seen[s] = true
		for _, hop := range c.Routes[s].Choices {
			if _, ok := c.Routes[hop]; ok {
				visit(hop)
			}
		}
		out = append(out, s)
	}
	for _, s := range c.SiteNames() {
		visit(s)
	}
	return out
}
