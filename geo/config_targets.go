package geo

import (
	"net/netip"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// dcCtx is the resource and DC a dcmap value belongs to.
type dcCtx struct {
	file string
	res  *ResourceConfig
	dc   string
}

// synthName is gdnsd's name for the resource a dcmap value synthesizes.
func (c dcCtx) synthName() string { return c.res.Plugin + "_" + c.res.Name + "_" + c.dc }

func (p *parser) parseTarget(c dcCtx, v *conf.Node, path string) *DCTarget {
	file := c.file
	t := &DCTarget{Where: Where{at(file, v), path}}
	switch v.Kind {
	case conf.ScalarNode:
		if v.Value == "" {
			p.errf(file, v, path, "expected an address, a list of addresses, a CNAME target ending in '.', %%plugin!resource, !resource or a mapping")
			return nil
		}
		if a, err := netip.ParseAddr(v.Value); err == nil {
			if !p.addAddr(file, v, path, t, a, 0) {
				return nil
			}
			return p.synthAddrs(c, t)
		}
		name := v.Value
		switch {
		case strings.HasPrefix(name, "%"):
			plugin, res, _ := strings.Cut(name[1:], "!")
			if plugin == "" {
				p.errf(file, v, path, "%q names no plugin (write %%plugin!resource)", name)
				return nil
			}
			t.Ref = &Ref{Plugin: plugin, Resource: res, Where: t.Where}
			return t
		case strings.HasPrefix(name, "!"):
			if name == "!" {
				p.errf(file, v, path, "%q names no resource", name)
				return nil
			}
			plugin := c.res.Params.Plugin
			if plugin == "" {
				plugin = PluginMultifo
			}
			t.Ref = &Ref{Plugin: plugin, Resource: name[1:], Where: t.Where}
			return t
		}
		if !strings.HasSuffix(name, ".") || !validDomain(name) {
			p.errf(file, v, path, "%q is neither an IP address nor a fully-qualified CNAME target ending in '.'", name)
			return nil
		}
		t.CNAME = name
		if c.res.Checked() {
			p.errf(file, v, path, "a CNAME target cannot be health-checked (service types check addresses); "+
				"use addresses here, or only the built-in service types up and down")
		}
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
		return p.synthAddrs(c, t)
	case conf.MappingNode:
		return p.synthHash(c, v, path, t)
	}
	p.errf(file, v, path, "expected an address, a list of addresses, a CNAME target, %%plugin!resource, !resource or a mapping")
	return nil
}

// synthAddrs makes the multifo resource gdnsd synthesizes for a dcmap
// address or list, with the resource's parameters.
func (p *parser) synthAddrs(c dcCtx, t *DCTarget) *DCTarget {
	l := &LeafConfig{Plugin: PluginMultifo, Name: c.synthName(), Where: t.Where}
	for _, fam := range [][]netip.Addr{t.V4, t.V6} {
		if len(fam) == 0 {
			continue
		}
		f := &FamilyConfig{Params: c.res.Params, Addrs: fam, Where: t.Where}
		if fam[0].Is4() {
			l.V4 = f
		} else {
			l.V6 = f
		}
	}
	t.Leaf = l
	p.cfg.Leaves = append(p.cfg.Leaves, l)
	return t
}

// synthHash makes the resource a dcmap hash stands for: of the plugin its
// `plugin` key names, else the one in scope, else multifo; the resource's
// parameters fill what it lacks.
func (p *parser) synthHash(c dcCtx, v *conf.Node, path string, t *DCTarget) *DCTarget {
	file := c.file
	plugin, where := c.res.Params.Plugin, c.res.PluginWhere
	rest := &conf.Node{Kind: conf.MappingNode, Pos: v.Pos}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if k := v.Content[i]; k.Kind == conf.ScalarNode && k.Value == "plugin" {
			name, ok := v.Content[i+1].Str()
			if !ok || name == "" {
				p.errf(file, v.Content[i+1], path+".plugin", "expected a plugin name, found %s", v.Content[i+1].Describe())
				return nil
			}
			plugin, where = name, Where{at(file, v.Content[i+1]), path + ".plugin"}
			continue
		}
		rest.Content = append(rest.Content, v.Content[i], v.Content[i+1])
	}
	if plugin == "" {
		plugin, where = PluginMultifo, t.Where
	}
	name := c.synthName()
	switch plugin {
	case c.res.Plugin:
		p.l.Add(where.Pos.Errorf(where.Key, "%s cannot synthesize a resource of its own plugin", c.res.Plugin))
		return nil
	case PluginMetafo:
		if c.res.Plugin != PluginGeoIP {
			break
		}
		// gdnsd drops the `plugin` key from what it synthesizes, so the
		// new resource's !res default is not the one in scope here.
		parent := c.res.Params
		parent.Plugin, parent.PluginWhere = "", Where{}
		m := p.parseResource(PluginMetafo, file, name, v, rest, path, &parent)
		if m == nil {
			return nil
		}
		m.Where = t.Where
		t.Meta = m
		p.cfg.Metafo = append(p.cfg.Metafo, m)
		return t
	case PluginMultifo, PluginSimplefo, PluginWeighted, PluginStatic:
		l := p.parseLeaf(plugin, file, name, v, rest, path, &c.res.Params)
		if l == nil {
			return nil
		}
		t.Leaf = l
		if plugin == PluginMultifo {
			for _, f := range []*FamilyConfig{l.V4, l.V6} {
				if f != nil && f.Addrs[0].Is4() {
					t.V4 = f.Addrs
				} else if f != nil {
					t.V6 = f.Addrs
				}
			}
		}
		p.cfg.Leaves = append(p.cfg.Leaves, l)
		return t
	case PluginReflect, PluginNull:
		p.l.Add(where.Pos.Errorf(where.Key, "%s takes no resource configuration; write \"%%%s!RESOURCE\" instead of a mapping", plugin, plugin))
		return nil
	}
	p.l.Add(where.Pos.Errorf(where.Key, "%s cannot synthesize a resource of plugin %q (%s)", c.res.Plugin, plugin, conf.OneOf(synthPlugins(c.res.Plugin))))
	return nil
}

func synthPlugins(meta string) []string {
	out := []string{PluginMultifo, PluginSimplefo, PluginWeighted, PluginStatic}
	if meta == PluginGeoIP {
		out = append(out, PluginMetafo)
	}
	return out
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
