package geo

import (
	"fmt"
	"slices"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// parseResource parses one geoip or metafo resource (meta names the
// plugin); nil when it is unusable (errors are recorded).
func (p *parser) parseResource(meta, file, name string, k, v *conf.Node, path string, parent *Params) *ResourceConfig {
	if v == nil || v.Kind != conf.MappingNode {
		p.errf(file, k, path, "expected a mapping with %s and dcmap", orderKey(meta))
		return nil
	}
	r := &ResourceConfig{Plugin: meta, Name: name, Where: Where{at(file, k), path}, DCMap: map[string]*DCTarget{}}
	if strings.ContainsAny(name, "/ \t*?[]\\") {
		p.errf(file, k, path, "resource name may not contain '/', blanks or glob characters")
	}
	var dcmapNode, dcmapKey, orderNode *conf.Node
	keys := append([]string{orderKey(meta), "skip_first", "dcmap"}, paramKeys...)
	p.l.Fields(v, path, keys, func(key string, k, v *conf.Node) {
		kp := path + "." + key
		switch key {
		case "map":
			orderNode = k
			if v.Kind != conf.ScalarNode || v.Value == "" {
				p.errf(file, v, kp, "expected a map name")
				return
			}
			r.Map = v.Value
		case "datacenters":
			orderNode = k
			if v.Kind == conf.ScalarNode {
				v = &conf.Node{Kind: conf.SequenceNode, Pos: v.Pos, Content: []*conf.Node{v}}
			}
			r.Datacenters = p.parseDatacenters(file, v, kp)
		case "skip_first":
			r.SkipFirst = p.boolVal(file, v, kp)
		case "dcmap":
			dcmapNode, dcmapKey = v, k
		default:
			p.parseParam(file, key, v, kp, &r.Params)
		}
	})
	r.fill(parent)
	if !r.hasUpThresh {
		r.UpThresh = DefaultUpThresh
	}
	if orderNode == nil {
		p.errf(file, k, path+"."+orderKey(meta), "required")
		return nil
	}
	dcs := r.Datacenters
	owner := "datacenters"
	if meta == PluginGeoIP {
		m := p.mapByName(r.Map)
		if m == nil {
			if r.Map != "" && !p.badMaps[r.Map] {
				p.errf(file, orderNode, path+".map", "no map named %q", r.Map)
			}
			return nil
		}
		dcs, owner = m.Datacenters, fmt.Sprintf("map %q", m.Name)
	}
	if len(dcs) == 0 {
		return nil
	}
	if dcmapNode == nil {
		p.errf(file, k, path+".dcmap", "required")
		return nil
	}
	if dcmapNode.Kind != conf.MappingNode {
		p.errf(file, dcmapKey, path+".dcmap", "expected a mapping of DC: addresses, CNAME target or %%plugin!resource")
		return nil
	}
	p.l.Pairs(dcmapNode, path+".dcmap", func(dc string, k, v *conf.Node) {
		kp := path + ".dcmap." + dc
		if !slices.Contains(dcs, dc) {
			p.errf(file, k, kp, "%q is not a data centre of %s", dc, owner)
			return
		}
		if t := p.parseTarget(dcCtx{file: file, res: r, dc: dc}, v, kp); t != nil {
			r.DCMap[dc] = t
		}
	})
	if meta == PluginMetafo || !p.cfg.UndefinedDatacentersOK {
		var missing []string
		for _, d := range dcs {
			if _, ok := r.DCMap[d]; !ok {
				missing = append(missing, d)
			}
		}
		if len(missing) > 0 {
			hint := " (or set undefined_datacenters_ok)"
			if meta == PluginMetafo {
				hint = ""
			}
			p.errf(file, dcmapKey, path+".dcmap", "no entry for %s of %s%s", strings.Join(missing, ", "), owner, hint)
		}
	}
	if len(r.DCMap) == 0 {
		p.errf(file, dcmapKey, path+".dcmap", "at least one data centre is required")
		return nil
	}
	return r
}

// orderKey is the key that gives a meta resource its DCs.
func orderKey(meta string) string {
	if meta == PluginGeoIP {
		return "map"
	}
	return "datacenters"
}

// paramKeys are the inheritable parameters a meta plugin's top level and
// resources accept.
var paramKeys = []string{"service_types", "up_thresh", "ignore_health", "multi", "plugin"}

// parseParam reads one of paramKeys into ps.
func (p *parser) parseParam(file, key string, v *conf.Node, path string, ps *Params) {
	switch key {
	case "service_types":
		ps.ServiceTypes, ps.ServiceWhere, ps.hasSvc = nil, nil, true
		p.parseServiceRefs(file, v, path, ps)
	case "up_thresh":
		p.parseUpThresh(file, v, path, ps)
	case "ignore_health":
		ps.IgnoreHealth, ps.hasIgnore = p.boolVal(file, v, path), true
	case "multi":
		ps.Multi, ps.hasMulti = p.boolVal(file, v, path), true
	case "plugin":
		name, ok := v.Str()
		if !ok || name == "" {
			p.errf(file, v, path, "expected a plugin name, found %s", v.Describe())
			return
		}
		ps.Plugin, ps.PluginWhere = name, Where{at(file, v), path}
	}
}

// parseServiceRefs reads service_types (a resource's, or the top-level
// default): a name or a list of names, checked against the declared types
// by CheckServiceTypes.
func (p *parser) parseServiceRefs(file string, v *conf.Node, path string, r *Params) {
	elems := []*conf.Node{v}
	if v.Kind == conf.SequenceNode {
		elems = v.Content
	}
	for _, e := range elems {
		name, ok := e.Str()
		if !ok || name == "" {
			p.errf(file, e, path, "expected a service type name, found %s", e.Describe())
			continue
		}
		if slices.Contains(r.ServiceTypes, name) {
			p.errf(file, e, path, "%q listed twice", name)
			continue
		}
		r.ServiceTypes = append(r.ServiceTypes, name)
		r.ServiceWhere = append(r.ServiceWhere, Where{at(file, e), path})
	}
}

func (p *parser) parseUpThresh(file string, v *conf.Node, path string, r *Params) {
	f, ok := v.Float()
	if !ok || !(f > 0 && f <= 1) {
		p.errf(file, v, path, "expected a fraction in (0, 1], found %s", v.Describe())
		return
	}
	r.UpThresh, r.hasUpThresh = f, true
}

// Checked reports whether the resource lists a service type that checks
// something, i.e. one other than the built-in up and down.
func (r *Params) Checked() bool {
	for _, s := range r.ServiceTypes {
		if s != "up" && s != "down" {
			return true
		}
	}
	return false
}

// CheckServiceTypes reports every service type a resource names that is
// neither declared (known) nor built in (up, down), at the reference.
func (c *Config) CheckServiceTypes(known func(name string) bool) error {
	var l conf.List
	seen := map[Where]bool{} // an inherited name is reported once, where it is written
	for _, r := range c.allParams() {
		for i, s := range r.ServiceTypes {
			if w := r.ServiceWhere[i]; s != "up" && s != "down" && !known(s) && !seen[w] {
				seen[w] = true
				l.Append(w.Pos, w.Errorf("no service type %q (declare it under service_types in authdns.yaml; up and down are built in)", s))
			}
		}
	}
	return l.Err()
}

// allParams lists the parameters of every resource and address family.
func (c *Config) allParams() []*Params {
	var out []*Params
	for _, r := range c.Resources {
		out = append(out, &r.Params)
	}
	for _, r := range c.Metafo {
		out = append(out, &r.Params)
	}
	for _, l := range c.Leaves {
		for _, f := range []*FamilyConfig{l.V4, l.V6, l.CNAMEs} {
			if f != nil {
				out = append(out, &f.Params)
			}
		}
	}
	return out
}
