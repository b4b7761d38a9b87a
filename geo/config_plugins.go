package geo

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// gdnsd's resolver plugin names.
const (
	PluginGeoIP    = "geoip"
	PluginMetafo   = "metafo"
	PluginMultifo  = "multifo"
	PluginSimplefo = "simplefo"
	PluginWeighted = "weighted"
	PluginStatic   = "static"
	PluginReflect  = "reflect"
	PluginNull     = "null"
)

// pluginKeys are the keys of `plugins:`; geoip has its own section.
var pluginKeys = []string{PluginMetafo, PluginMultifo, PluginSimplefo, PluginWeighted, PluginStatic, PluginReflect, PluginNull}

// leafParams are the parameters each address plugin takes at its top
// level and in its resources (gdnsd-config.md §3.2–3.4).
var leafParams = map[string][]string{
	PluginMultifo:  {"service_types", "up_thresh", "ignore_health"},
	PluginSimplefo: {"service_types"},
	PluginWeighted: {"service_types", "up_thresh", "multi"},
	PluginStatic:   nil,
}

// LeafConfig is one resource of multifo, simplefo, weighted or static.
type LeafConfig struct {
	Plugin string
	Name   string
	Where  Where
	// V4 and V6 are the address families (multifo, simplefo, weighted).
	V4, V6 *FamilyConfig
	// CNAMEs is weighted's CNAME set.
	CNAMEs *FamilyConfig
	// Addr or CNAME is static's answer.
	Addr  netip.Addr
	CNAME string
}

// FamilyConfig is one address family of a resource (or weighted's CNAME
// set) with its parameters.
type FamilyConfig struct {
	Params
	// Addrs are multifo's addresses in config order, or simplefo's
	// primary and secondary.
	Addrs []netip.Addr
	// Items are weighted's addresses, groups or CNAMEs.
	Items []WeightedItem
	Where Where
}

// WeightedItem is one weighted item: an address, a group of addresses
// (each with its weight), or a CNAME.
type WeightedItem struct {
	Name    string
	Addrs   []netip.Addr
	Weights []uint32
	CNAME   string
	Weight  uint32 // an address's or CNAME's weight; a group's is the sum
}

// LoadPluginsFile reads a standalone YAML file whose top level is the
// `plugins:` section into cfg.
func (c *Config) LoadPluginsFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("plugins config: %w", err)
	}
	root, err := conf.DecodeYAML(path, data)
	if err != nil {
		return err
	}
	return c.ParsePlugins(path, root)
}

// ParsePlugins parses the `plugins:` YAML section (gdnsd's resolver
// plugins other than geoip: metafo, multifo, simplefo, weighted, static,
// reflect, null) into c; node is its mapping (nil: none). Errors read
// "file:line: plugins.metafo.resources.NAME: reason", all of them
// reported. References between resources are checked by Build.
func (c *Config) ParsePlugins(file string, node *conf.Node) error {
	p := &parser{cfg: c, badMaps: map[string]bool{}}
	if node != nil && node.Kind != conf.NullNode {
		p.parsePlugins(file, node)
	}
	return p.l.Err()
}

func (p *parser) parsePlugins(file string, n *conf.Node) {
	if n.Kind != conf.MappingNode {
		p.errf(file, n, "plugins", "expected a mapping of plugin names (%s)", conf.OneOf(pluginKeys))
		return
	}
	p.l.Fields(n, "plugins", pluginKeys, func(key string, k, v *conf.Node) {
		path := "plugins." + key
		switch key {
		case PluginMetafo:
			p.parseMetafo(file, k, v, path)
		case PluginReflect, PluginNull:
			// Their configuration is ignored, as gdnsd's.
		default:
			p.parseLeafPlugin(key, file, k, v, path)
		}
	})
}

func (p *parser) parseMetafo(file string, k, v *conf.Node, path string) {
	if v == nil || v.Kind != conf.MappingNode {
		p.errf(file, k, path, "expected a mapping with resources")
		return
	}
	var top Params
	var resNode, resKey *conf.Node
	p.l.Fields(v, path, append([]string{"resources"}, paramKeys...), func(key string, k, v *conf.Node) {
		if key == "resources" {
			resNode, resKey = v, k
			return
		}
		p.parseParam(file, key, v, path+"."+key, &top)
	})
	if resNode == nil {
		p.errf(file, k, path+".resources", "required")
		return
	}
	if resNode.Kind != conf.MappingNode || len(resNode.Content) == 0 {
		p.errf(file, resKey, path+".resources", "expected a non-empty mapping of resource names")
		return
	}
	p.l.Pairs(resNode, path+".resources", func(name string, k, v *conf.Node) {
		if r := p.parseResource(PluginMetafo, file, name, k, v, path+".resources."+name, &top); r != nil {
			p.cfg.Metafo = append(p.cfg.Metafo, r)
		}
	})
}

// parseLeafPlugin parses the stanza of an address plugin: its parameters
// and, under every other key, a resource.
func (p *parser) parseLeafPlugin(plugin, file string, k, v *conf.Node, path string) {
	if v.Kind == conf.NullNode {
		return
	}
	if v.Kind != conf.MappingNode {
		p.errf(file, k, path, "expected a mapping of parameters and resources")
		return
	}
	var top Params
	type res struct{ k, v *conf.Node }
	var resources []res
	p.l.Pairs(v, path, func(key string, k, v *conf.Node) {
		if slices.Contains(leafParams[plugin], key) {
			p.parseParam(file, key, v, path+"."+key, &top)
			return
		}
		resources = append(resources, res{k, v})
	})
	for _, r := range resources {
		if l := p.parseLeaf(plugin, file, r.k.Value, r.k, r.v, path+"."+r.k.Value, &top); l != nil {
			p.cfg.Leaves = append(p.cfg.Leaves, l)
		}
	}
}

// parseLeaf parses one resource of an address plugin; parent holds the
// parameters it inherits.
func (p *parser) parseLeaf(plugin, file, name string, k, v *conf.Node, path string, parent *Params) *LeafConfig {
	l := &LeafConfig{Plugin: plugin, Name: name, Where: Where{at(file, k), path}}
	nErr := p.l.Len()
	switch plugin {
	case PluginMultifo:
		p.parseMultifo(file, v, path, parent, l)
	case PluginSimplefo:
		p.parseSimplefo(file, v, path, parent, l)
	case PluginWeighted:
		p.parseWeighted(file, v, path, parent, l)
	case PluginStatic:
		p.parseStatic(file, v, path, l)
	}
	if p.l.Len() > nErr {
		return nil
	}
	return l
}

// families reads addrs_v4 and addrs_v6 of a mapping with fam (which parses
// one family); any key but those and the plugin's parameters is an error.
// It reports false when the mapping has neither (direct mode).
func (p *parser) families(plugin, file string, v *conf.Node, path string, parent *Params, l *LeafConfig,
	fam func(v *conf.Node, path string, family int, parent *Params) *FamilyConfig) bool {
	if v.Kind != conf.MappingNode || (v.Get("addrs_v4") == nil && v.Get("addrs_v6") == nil) {
		return false
	}
	var own Params
	var v4, v6 *conf.Node
	p.l.Fields(v, path, append([]string{"addrs_v4", "addrs_v6"}, leafParams[plugin]...), func(key string, k, v *conf.Node) {
		switch key {
		case "addrs_v4":
			v4 = v
		case "addrs_v6":
			v6 = v
		default:
			p.parseParam(file, key, v, path+"."+key, &own)
		}
	})
	own.fill(parent)
	if v4 != nil {
		l.V4 = fam(v4, path+".addrs_v4", 4, &own)
	}
	if v6 != nil {
		l.V6 = fam(v6, path+".addrs_v6", 6, &own)
	}
	return true
}

// setFamily stores f as l's family of its first address.
func setFamily(l *LeafConfig, f *FamilyConfig) {
	switch {
	case f == nil:
	case f.Addrs[0].Is4():
		l.V4 = f
	default:
		l.V6 = f
	}
}

func (p *parser) parseMultifo(file string, v *conf.Node, path string, parent *Params, l *LeafConfig) {
	fam := func(v *conf.Node, path string, family int, parent *Params) *FamilyConfig {
		return p.multifoFamily(file, v, path, family, parent)
	}
	if !p.families(PluginMultifo, file, v, path, parent, l, fam) {
		setFamily(l, p.multifoFamily(file, v, path, 0, parent))
	}
}

// multifoFamily reads `label: IP` pairs with parameters, a list or one
// address, all of family (0: the first address's).
func (p *parser) multifoFamily(file string, v *conf.Node, path string, family int, parent *Params) *FamilyConfig {
	f := &FamilyConfig{Where: Where{at(file, v), path}}
	t := &DCTarget{}
	ok := true
	add := func(e *conf.Node, path string) {
		if family == 0 && e.Kind == conf.ScalarNode {
			if a, err := netip.ParseAddr(e.Value); err == nil {
				family = 6
				if a.Is4() {
					family = 4
				}
			}
		}
		ok = p.addrNode(file, e, path, t, family) && ok
	}
	switch v.Kind {
	case conf.ScalarNode:
		add(v, path)
	case conf.SequenceNode:
		for _, e := range v.Content {
			add(e, path)
		}
	case conf.MappingNode:
		p.l.Pairs(v, path, func(key string, k, v *conf.Node) {
			if slices.Contains(leafParams[PluginMultifo], key) {
				p.parseParam(file, key, v, path+"."+key, &f.Params)
				return
			}
			add(v, path+"."+key)
		})
	default:
		p.errf(file, v, path, "expected `label: address` pairs, a list of addresses or one address")
		return nil
	}
	if !ok {
		return nil
	}
	f.Addrs = append(t.V4, t.V6...)
	if len(f.Addrs) == 0 {
		p.errf(file, v, path, "no addresses")
		return nil
	}
	f.fill(parent)
	return f
}

func (p *parser) parseSimplefo(file string, v *conf.Node, path string, parent *Params, l *LeafConfig) {
	if v.Kind != conf.MappingNode {
		p.errf(file, v, path, "expected a mapping with primary and secondary (or addrs_v4/addrs_v6)")
		return
	}
	fam := func(v *conf.Node, path string, family int, parent *Params) *FamilyConfig {
		return p.simplefoFamily(file, v, path, family, parent)
	}
	if !p.families(PluginSimplefo, file, v, path, parent, l, fam) {
		setFamily(l, p.simplefoFamily(file, v, path, 0, parent))
	}
}

// simplefoFamily reads primary, secondary and service_types, both
// addresses of family (0: the primary's).
func (p *parser) simplefoFamily(file string, v *conf.Node, path string, family int, parent *Params) *FamilyConfig {
	if v.Kind != conf.MappingNode {
		p.errf(file, v, path, "expected a mapping with primary and secondary")
		return nil
	}
	f := &FamilyConfig{Where: Where{at(file, v), path}}
	var pri, sec *conf.Node
	p.l.Fields(v, path, []string{"primary", "secondary", "service_types"}, func(key string, k, v *conf.Node) {
		switch key {
		case "primary":
			pri = v
		case "secondary":
			sec = v
		default:
			p.parseParam(file, key, v, path+"."+key, &f.Params)
		}
	})
	if pri == nil || sec == nil {
		p.errf(file, v, path, "needs both primary and secondary")
		return nil
	}
	t, t2 := &DCTarget{}, &DCTarget{}
	if pri.Kind == conf.ScalarNode && family == 0 {
		if a, err := netip.ParseAddr(pri.Value); err == nil && a.Is6() {
			family = 6
		} else {
			family = 4
		}
	}
	if !p.addrNode(file, pri, path+".primary", t, family) || !p.addrNode(file, sec, path+".secondary", t2, family) {
		return nil
	}
	f.Addrs = append(append(t.V4, t.V6...), append(t2.V4, t2.V6...)...)
	f.fill(parent)
	return f
}

func (p *parser) parseStatic(file string, v *conf.Node, path string, l *LeafConfig) {
	s, ok := v.Str()
	if !ok || s == "" {
		p.errf(file, v, path, "expected an address or a CNAME target ending in '.', found %s", v.Describe())
		return
	}
	if a, err := netip.ParseAddr(s); err == nil {
		t := &DCTarget{}
		if p.addAddr(file, v, path, t, a, 0) {
			l.Addr = a
		}
		return
	}
	if !strings.HasSuffix(s, ".") || !validDomain(s) {
		p.errf(file, v, path, "%q is neither an IP address nor a fully-qualified CNAME target ending in '.'", s)
		return
	}
	l.CNAME = s
}
