package geo

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
)

// buildResources compiles every resource of every plugin and links the
// references between them. Unlike gdnsd, which resolves references when a
// zone first uses a resource, every reference is checked here: an unknown
// plugin or resource, or a loop, fails the load.
func (g *Geo) buildResources(cfg *Config) error {
	var errs []error
	add := func(r *Resource, w Where) {
		if g.byPlugin[r.plugin] == nil {
			g.byPlugin[r.plugin] = map[string]*Resource{}
		}
		if _, dup := g.byPlugin[r.plugin][r.name]; dup {
			errs = append(errs, w.Errorf("%s resource %q is defined twice (dcmap values synthesize resources named geoip_RES_DC and metafo_RES_DC)", r.plugin, r.name))
			return
		}
		r.g, r.idx = g, len(g.all)
		g.all = append(g.all, r)
		g.byPlugin[r.plugin][r.name] = r
	}
	for i, mode := range reflectModes {
		add(&Resource{kind: kindReflect, plugin: PluginReflect, name: mode, reflect: uint8(i), perClient: true, varies: true}, Where{})
	}
	add(&Resource{kind: kindNull, plugin: PluginNull,
		fix4: []netip.Addr{netip.IPv4Unspecified()}, fix6: []netip.Addr{netip.IPv6Unspecified()}}, Where{})
	for _, lc := range cfg.Leaves {
		add(buildLeaf(lc), lc.Where)
	}
	metas := map[*Resource]*ResourceConfig{}
	var order []*Resource
	for _, rc := range append(slices.Clip(cfg.Resources), cfg.Metafo...) {
		r, err := g.newMeta(rc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n := len(g.all)
		add(r, rc.Where)
		if len(g.all) == n {
			continue
		}
		metas[r] = rc
		order = append(order, r)
		if r.kind == kindGeoIP {
			g.resources = append(g.resources, r)
			g.resByName[r.name] = r
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, r := range order {
		errs = append(errs, g.link(r, metas[r])...)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	state := map[node]uint8{} // 1: being visited, 2: done
	for _, r := range order {
		if err := visit(node{r, -1}, metas, state, nil); err != nil {
			return err
		}
	}
	memo := map[node]nodeFlags{}
	for _, r := range order {
		r.dcCNAME = make([]bool, len(r.dcs))
		for i := range r.dcs {
			f := dcFlags(r, i, memo)
			r.dcCNAME[i] = f.cname
			r.hasCNAME = r.hasCNAME || f.cname
			r.varies = r.varies || f.perClient
		}
		r.perClient = r.perClient || r.varies
	}
	return nil
}

// buildLeaf compiles a multifo, simplefo, weighted or static resource.
func buildLeaf(lc *LeafConfig) *Resource {
	r := &Resource{kind: kindByPlugin[lc.Plugin], plugin: lc.Plugin, name: lc.Name, cname: lc.CNAME}
	r.v4, r.v6, r.wcnames = buildFamily(lc.V4), buildFamily(lc.V6), buildFamily(lc.CNAMEs)
	switch {
	case lc.Addr.Is4():
		r.fix4 = []netip.Addr{lc.Addr}
	case lc.Addr.Is6():
		r.fix6 = []netip.Addr{lc.Addr}
	case r.kind == kindSimplefo:
		r.fix4, r.fix6 = r.v4.first(), r.v6.first()
	default:
		r.fix4, r.fix6 = r.v4.all(), r.v6.all()
	}
	r.hasCNAME = lc.CNAME != "" || lc.CNAMEs != nil
	r.wUp = weightedHealth{newWSet(r.v4, nil), newWSet(r.v6, nil), newWSet(r.wcnames, nil)}
	r.perClient = r.kind == kindWeighted
	r.varies = r.perClient
	return r
}

func buildFamily(fc *FamilyConfig) *family {
	if fc == nil {
		return nil
	}
	return &family{addrs: fc.Addrs, svc: fc.monitors(), upThresh: fc.threshold(), ignoreHealth: fc.IgnoreHealth,
		multi: fc.Multi, items: buildItems(fc.Items)}
}

// all is the family's addresses (nil for no family).
func (f *family) all() []netip.Addr {
	if f == nil {
		return nil
	}
	return f.addrs
}

// first is simplefo's primary (nil for no family).
func (f *family) first() []netip.Addr {
	if f == nil {
		return nil
	}
	return f.addrs[:1]
}

// need is gdnsd's threshold: ceil(n × up_thresh) in float64, so 0.14 × 50
// needs 8, as gdnsd.
func need(n int, thresh float64) int { return int(math.Ceil(float64(n) * thresh)) }

// newMeta makes a geoip or metafo resource without linking its DCs.
func (g *Geo) newMeta(rc *ResourceConfig) (*Resource, error) {
	r := &Resource{plugin: rc.Plugin, kind: kindByPlugin[rc.Plugin], name: rc.Name, byName: map[string]uint8{}}
	var lists [][]uint8
	if rc.Plugin == PluginGeoIP {
		m, ok := g.mapByName[rc.Map]
		if !ok {
			return nil, rc.Where.Errorf("no map named %q", rc.Map)
		}
		r.m, r.dcs, lists = m, m.dcs, m.lists
		r.mapIdx = slices.Index(g.maps, m)
		r.perClient = true
	} else {
		r.dcs = rc.Datacenters
		all := make([]uint8, len(r.dcs))
		for i := range all {
			all[i] = uint8(i)
		}
		lists = [][]uint8{all}
		for _, d := range r.dcs {
			if !slices.Contains(g.sites, d) {
				g.sites = append(g.sites, d)
			}
		}
	}
	r.svc = rc.monitors()
	r.targets = make([]target, len(r.dcs))
	r.dcIdx = make([]uint8, len(r.dcs))
	for i, d := range r.dcs {
		r.dcIdx[i] = uint8(i)
		if _, ok := rc.DCMap[d]; ok {
			r.targets[i] = target{defined: true, pin: -1}
			r.byName[d] = uint8(i)
		}
	}
	if len(r.byName) == 0 {
		return nil, rc.Where.Errorf("no data centre has a dcmap entry")
	}
	r.lists = make([][]uint8, len(lists))
	for i, l := range lists {
		var out []uint8
		for _, d := range l {
			if r.targets[d].defined {
				out = append(out, d)
			}
		}
		if rc.SkipFirst && len(out) >= 2 {
			out = out[1:]
		}
		r.lists[i] = out
	}
	return r, nil
}

// link resolves what each DC of r answers.
func (g *Geo) link(r *Resource, rc *ResourceConfig) []error {
	var errs []error
	for i, d := range r.dcs {
		t := rc.DCMap[d]
		if t == nil {
			continue
		}
		tg := &r.targets[i]
		switch {
		case t.CNAME != "":
			tg.cname = t.CNAME
		case t.Leaf != nil:
			tg.ref = g.byPlugin[t.Leaf.Plugin][t.Leaf.Name]
		case t.Meta != nil:
			tg.ref = g.byPlugin[PluginMetafo][t.Meta.Name]
		case t.Ref != nil:
			ref, pin, err := g.resolveRef(t.Ref)
			if err != nil {
				errs = append(errs, t.Ref.Where.Errorf("%v", err))
				continue
			}
			tg.ref, tg.pin = ref, pin
		}
	}
	return errs
}

// resolveRef finds the resource a `%plugin!resource[/dc]` names.
func (g *Geo) resolveRef(ref *Ref) (*Resource, int, error) {
	k, ok := kindByPlugin[ref.Plugin]
	if !ok {
		return nil, -1, fmt.Errorf("unknown plugin %q in %%%s!%s (plugins: %s)", ref.Plugin, ref.Plugin, ref.Resource,
			strings.Join(append([]string{PluginGeoIP}, pluginKeys...), ", "))
	}
	name, dc := ref.Resource, ""
	if k == kindGeoIP || k == kindMetafo {
		name, dc, _ = strings.Cut(name, "/")
	}
	if name == "" && k != kindReflect && k != kindNull {
		return nil, -1, fmt.Errorf("plugin %s needs a resource name (%%%s!RESOURCE)", ref.Plugin, ref.Plugin)
	}
	r, ok := g.Lookup(ref.Plugin, name)
	if !ok {
		if k == kindReflect {
			return nil, -1, fmt.Errorf("reflect resource %q is not one of dns, edns, best or both", name)
		}
		return nil, -1, fmt.Errorf("no %s resource %q", ref.Plugin, name)
	}
	if dc == "" {
		return r, -1, nil
	}
	d, ok := r.byName[dc]
	if !ok {
		return nil, -1, fmt.Errorf("%s resource %q has no datacenter %q", ref.Plugin, name, dc)
	}
	return r, int(d), nil
}

// node is a meta resource as a reference reaches it: all its DCs (pin
// -1), or one.
type node struct {
	r   *Resource
	pin int
}

func (n node) String() string {
	if n.pin < 0 {
		return n.r.plugin + "!" + n.r.name
	}
	return n.r.plugin + "!" + n.r.name + "/" + n.r.dcs[n.pin]
}

// visit finds reference loops (gdnsd only refuses a resource naming
// itself, and crashes at query time on longer loops). A pinned reference
// depends on its one DC only, so `r: {a: IP, b: "%geoip!r/a"}` is fine.
func visit(n node, metas map[*Resource]*ResourceConfig, state map[node]uint8, path []string) error {
	if state[n] == 2 {
		return nil
	}
	path = append(path, n.String())
	state[n] = 1
	for i := range n.r.targets {
		t := &n.r.targets[i]
		if !t.defined || (n.pin >= 0 && i != n.pin) || t.ref == nil || !t.ref.meta() {
			continue
		}
		next := node{t.ref, t.pin}
		if state[next] == 1 {
			w := metas[n.r].DCMap[n.r.dcs[i]].Where
			return w.Errorf("reference loop: %s → %s", strings.Join(path, " → "), next)
		}
		if err := visit(next, metas, state, path); err != nil {
			return err
		}
	}
	state[n] = 2
	return nil
}

// nodeFlags say whether what a reference reaches may answer a CNAME and
// answers differently per client.
type nodeFlags struct{ cname, perClient bool }

// dcFlags are DC i of meta resource r's flags; the reference graph is
// acyclic (visit), memo holds what is known.
func dcFlags(r *Resource, i int, memo map[node]nodeFlags) nodeFlags {
	t := &r.targets[i]
	switch {
	case !t.defined:
		return nodeFlags{}
	case t.cname != "":
		return nodeFlags{cname: true}
	case t.ref == nil:
		return nodeFlags{}
	case !t.ref.meta():
		return nodeFlags{t.ref.hasCNAME, t.ref.perClient}
	}
	n := node{t.ref, t.pin}
	if f, ok := memo[n]; ok {
		return f
	}
	var f nodeFlags
	if n.pin >= 0 {
		f = dcFlags(n.r, n.pin, memo)
	} else {
		f.perClient = n.r.kind == kindGeoIP
		for j := range n.r.targets {
			g := dcFlags(n.r, j, memo)
			f.cname, f.perClient = f.cname || g.cname, f.perClient || g.perClient
		}
	}
	memo[n] = f
	return f
}
