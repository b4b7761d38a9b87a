package geo

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

func (p *parser) parseResource(file, name string, k, v *conf.Node, path string) *ResourceConfig {
	if v == nil || v.Kind != conf.MappingNode {
		p.errf(file, k, path, "expected a mapping with map and dcmap")
		return nil
	}
	r := &ResourceConfig{Name: name, Where: Where{at(file, k), path}, DCMap: map[string]*DCTarget{},
		ServiceTypes: p.defaults.ServiceTypes, ServiceWhere: p.defaults.ServiceWhere, UpThresh: p.defaults.UpThresh}
	if strings.ContainsAny(name, "/ \t*?[]\\") {
		p.errf(file, k, path, "resource name may not contain '/', blanks or glob characters")
	}
	var dcmapNode, dcmapKey, mapKey *conf.Node
	p.l.Fields(v, path, []string{"map", "skip_first", "dcmap", "service_types", "up_thresh"}, func(key string, k, v *conf.Node) {
		kp := path + "." + key
		switch key {
		case "map":
			mapKey = k
			if v.Kind != conf.ScalarNode || v.Value == "" {
				p.errf(file, v, kp, "expected a map name")
				return
			}
			r.Map = v.Value
		case "skip_first":
			r.SkipFirst = p.boolVal(file, v, kp)
		case "dcmap":
			dcmapNode, dcmapKey = v, k
		case "service_types":
			r.ServiceTypes, r.ServiceWhere = nil, nil // its own replace the inherited ones
			p.parseServiceRefs(file, v, kp, r)
		case "up_thresh":
			p.parseUpThresh(file, v, kp, r)
		}
	})
	if mapKey == nil {
		p.errf(file, k, path+".map", "required")
		return nil
	}
	m := p.mapByName(r.Map)
	if m == nil {
		if r.Map != "" && !p.badMaps[r.Map] {
			p.errf(file, mapKey, path+".map", "no map named %q", r.Map)
		}
		return nil
	}
	if dcmapNode == nil {
		p.errf(file, k, path+".dcmap", "required")
		return nil
	}
	if dcmapNode.Kind != conf.MappingNode {
		p.errf(file, dcmapKey, path+".dcmap", "expected a mapping of DC: addresses or CNAME target")
		return nil
	}
	inMap := map[string]bool{}
	for _, d := range m.Datacenters {
		inMap[d] = true
	}
	p.l.Pairs(dcmapNode, path+".dcmap", func(dc string, k, v *conf.Node) {
		kp := path + ".dcmap." + dc
		if !inMap[dc] {
			p.errf(file, k, kp, "%q is not a data centre of map %q", dc, m.Name)
			return
		}
		if t := p.parseTarget(file, v, kp); t != nil {
			r.DCMap[dc] = t
			if t.CNAME != "" && r.Checked() {
				p.errf(file, v, kp, "a CNAME target cannot be health-checked (service types check addresses); "+
					"use addresses here, or only the built-in service types up and down")
			}
		}
	})
	if !p.cfg.UndefinedDatacentersOK {
		var missing []string
		for _, d := range m.Datacenters {
			if _, ok := r.DCMap[d]; !ok {
				missing = append(missing, d)
			}
		}
		if len(missing) > 0 {
			p.errf(file, dcmapKey, path+".dcmap", "no entry for %s of map %q (or set undefined_datacenters_ok)", strings.Join(missing, ", "), m.Name)
		}
	}
	if len(r.DCMap) == 0 {
		p.errf(file, dcmapKey, path+".dcmap", "at least one data centre is required")
		return nil
	}
	return r
}

// parseServiceRefs reads service_types (a resource's, or the top-level
// default): a name or a list of names, checked against the declared types
// by CheckServiceTypes.
func (p *parser) parseServiceRefs(file string, v *conf.Node, path string, r *ResourceConfig) {
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

func (p *parser) parseUpThresh(file string, v *conf.Node, path string, r *ResourceConfig) {
	f, ok := v.Float()
	if !ok || !(f > 0 && f <= 1) {
		p.errf(file, v, path, "expected a fraction in (0, 1], found %s", v.Describe())
		return
	}
	r.UpThresh = f
}

// Checked reports whether the resource lists a service type that checks
// something, i.e. one other than the built-in up and down.
func (r *ResourceConfig) Checked() bool {
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
	for _, r := range c.Resources {
		for i, s := range r.ServiceTypes {
			if w := r.ServiceWhere[i]; s != "up" && s != "down" && !known(s) && !seen[w] {
				seen[w] = true
				l.Append(w.Pos, w.Errorf("no service type %q (declare it under service_types in authdns.yaml; up and down are built in)", s))
			}
		}
	}
	return l.Err()
}

func (p *parser) parseTarget(file string, v *conf.Node, path string) *DCTarget {
	t := &DCTarget{Where: Where{at(file, v), path}}
	switch v.Kind {
	case conf.ScalarNode:
		if v.Kind == conf.NullNode || v.Value == "" {
			p.errf(file, v, path, "expected an address, a list of addresses, {addrs_v4, addrs_v6} or a CNAME target ending in '.'")
			return nil
		}
		if a, err := netip.ParseAddr(v.Value); err == nil {
			if !p.addAddr(file, v, path, t, a, 0) {
				return nil
			}
			return t
		}
		name := v.Value
		if strings.HasPrefix(name, "%") || strings.HasPrefix(name, "!") {
			p.errf(file, v, path, "plugin references (%q) are not supported; give addresses or a CNAME target", name)
			return nil
		}
		if !strings.HasSuffix(name, ".") || !validDomain(name) {
			p.errf(file, v, path, "%q is neither an IP address nor a fully-qualified CNAME target ending in '.'", name)
			return nil
		}
		t.CNAME = name
		return t
	case conf.SequenceNode:
		if len(v.Content) == 0 {
			p.errf(file, v, path, "empty address list")
			return nil
		}
		ok := true
		for _, e := range v.Content {
			ok = p.addrNode(file, e, path, t, 0) && ok
		}
		if ok && len(t.V4) > 0 && len(t.V6) > 0 {
			p.errf(file, v, path, "a plain list holds one family; use {addrs_v4: [...], addrs_v6: [...]} for both")
			return nil
		}
		if !ok {
			return nil
		}
		return t
	case conf.MappingNode:
		nErr := p.l.Len()
		ok := true
		p.l.Fields(v, path, []string{"addrs_v4", "addrs_v6"}, func(key string, _, v *conf.Node) {
			kp := path + "." + key
			fam := 6
			if key == "addrs_v4" {
				fam = 4
			}
			elems := []*conf.Node{v}
			if v.Kind == conf.SequenceNode {
				elems = v.Content
			}
			for _, e := range elems {
				ok = p.addrNode(file, e, kp, t, fam) && ok
			}
		})
		ok = ok && p.l.Len() == nErr // an unknown key
		if ok && len(t.V4)+len(t.V6) == 0 {
			p.errf(file, v, path, "no addresses")
			return nil
		}
		if !ok {
			return nil
		}
		return t
	}
	p.errf(file, v, path, "expected an address, a list of addresses, {addrs_v4, addrs_v6} or a CNAME target")
	return nil
}

func (p *parser) addrNode(file string, e *conf.Node, path string, t *DCTarget, fam int) bool {
	if e == nil || e.Kind != conf.ScalarNode {
		p.errf(file, e, path, "expected an IP address")
		return false
	}
	a, err := netip.ParseAddr(e.Value)
	if err != nil {
		p.errf(file, e, path, "%q is not an IP address", e.Value)
		return false
	}
	return p.addAddr(file, e, path, t, a, fam)
}

func (p *parser) addAddr(file string, e *conf.Node, path string, t *DCTarget, a netip.Addr, fam int) bool {
	switch {
	case a.Zone() != "":
		p.errf(file, e, path, "%s: zones are not allowed", a)
		return false
	case a.Is4In6():
		p.errf(file, e, path, "%s: write IPv4-mapped addresses as IPv4", a)
		return false
	case fam == 4 && !a.Is4(), fam == 6 && !a.Is6():
		p.errf(file, e, path, "%s is not an IPv%d address", a, fam)
		return false
	}
	list := &t.V6
	if a.Is4() {
		list = &t.V4
	}
	for _, x := range *list {
		if x == a {
			p.errf(file, e, path, "%s listed twice", a)
			return false
		}
	}
	*list = append(*list, a)
	return true
}

// validDomain checks a presentation-format domain name (labels of 1..63
// bytes, 255 in total), without escapes.
func validDomain(name string) bool {
	if name == "." {
		return false
	}
	if len(name) > 254 {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if l == "" || len(l) > 63 || strings.ContainsAny(l, " \t\\\"()") {
			return false
		}
	}
	return true
}
