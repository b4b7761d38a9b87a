package geo

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// gdnsd's weighted limits: items per set, addresses per group, weight.
const (
	maxWeightedItems = 64
	maxGroupAddrs    = 64
	maxWeight        = 1048575
)

// parseWeighted reads a weighted resource: addrs_v4/addrs_v6 hashes, or
// direct items whose first one tells the mode ([IP, weight] addresses,
// hashes of them as groups, or [CNAME., weight]).
func (p *parser) parseWeighted(file string, v *conf.Node, path string, parent *Params, l *LeafConfig) {
	if v.Kind != conf.MappingNode {
		p.errf(file, v, path, "expected a mapping of weighted items (or addrs_v4/addrs_v6)")
		return
	}
	if k := v.Key("cnames"); k != nil {
		p.errf(file, k, path+".cnames", "gdnsd 3 no longer takes a cnames stanza; give the [CNAME., weight] items directly")
		return
	}
	fam := func(v *conf.Node, path string, family int, parent *Params) *FamilyConfig {
		if v.Kind != conf.MappingNode {
			p.errf(file, v, path, "expected a mapping of weighted items")
			return nil
		}
		return p.weightedSet(file, v, path, family, parent)
	}
	if p.families(PluginWeighted, file, v, path, parent, l, fam) {
		return
	}
	f := p.weightedSet(file, v, path, 0, parent)
	switch {
	case f == nil:
	case f.Items[0].CNAME != "":
		l.CNAMEs = f
		if f.Checked() {
			p.errf(file, v, path, "CNAMEs cannot be health-checked (service types check addresses); use only the built-in service types up and down")
		}
	case f.Items[0].Addrs[0].Is4():
		l.V4 = f
	default:
		l.V6 = f
	}
}

// Weighted set modes, from the first item.
const (
	wAddrs = iota + 1
	wGroups
	wCNAMEs
)

// weightedSet reads one set of items with its parameters; family 0 takes
// the first item's (or CNAMEs).
func (p *parser) weightedSet(file string, v *conf.Node, path string, family int, parent *Params) *FamilyConfig {
	f := &FamilyConfig{Where: Where{at(file, v), path}}
	nErr := p.l.Len()
	mode := 0
	p.l.Pairs(v, path, func(key string, k, v *conf.Node) {
		kp := path + "." + key
		if slices.Contains(leafParams[PluginWeighted], key) {
			p.parseParam(file, key, v, kp, &f.Params)
			return
		}
		if len(f.Items) == maxWeightedItems {
			p.errf(file, k, kp, "at most %d items per set", maxWeightedItems)
			return
		}
		if mode == 0 {
			mode, family = detectWeighted(v, family)
		}
		it := WeightedItem{Name: key}
		switch {
		case mode == wGroups && v.Kind != conf.MappingNode, mode != wGroups && v.Kind == conf.MappingNode:
			p.errf(file, v, kp, "a set holds addresses, groups or CNAMEs, not a mix")
			return
		case mode == wCNAMEs:
			it.CNAME, it.Weight = p.weightedCNAME(file, v, kp)
		case mode == wGroups:
			it = p.weightedGroup(file, key, v, kp, family)
		default:
			a, w := p.weightedAddr(file, v, kp, family)
			it.Addrs, it.Weights, it.Weight = []netip.Addr{a}, []uint32{w}, w
		}
		f.Items = append(f.Items, it)
	})
	if p.l.Len() > nErr {
		return nil
	}
	if len(f.Items) == 0 {
		p.errf(file, v, path, "no weighted items")
		return nil
	}
	f.fill(parent)
	return f
}

// detectWeighted tells a set's mode from its first item, as gdnsd: a
// mapping is a group of addresses, [IP, w] an address, else (only
// without a family) a CNAME; and the family of its first address when
// family is 0.
func detectWeighted(v *conf.Node, family int) (mode, fam int) {
	mode, first := wAddrs, v
	if v.Kind == conf.MappingNode {
		mode = wGroups
		if len(v.Content) >= 2 {
			first = v.Content[1]
		}
	}
	if first.Kind == conf.SequenceNode && len(first.Content) > 0 {
		first = first.Content[0]
	}
	if family != 0 || first.Kind != conf.ScalarNode {
		return mode, family
	}
	a, err := netip.ParseAddr(first.Value)
	switch {
	case err != nil && mode == wAddrs:
		return wCNAMEs, 0
	case err != nil:
		return mode, 0
	case a.Is4():
		return mode, 4
	}
	return mode, 6
}

// weightPair reads [X, weight].
func (p *parser) weightPair(file string, v *conf.Node, path, what string) (string, *conf.Node, uint32) {
	if v.Kind != conf.SequenceNode || len(v.Content) != 2 || v.Content[0].Kind != conf.ScalarNode {
		p.errf(file, v, path, "expected [%s, weight]", what)
		return "", nil, 0
	}
	w, ok := v.Content[1].Int()
	if !ok || w < 1 || w > maxWeight {
		p.errf(file, v.Content[1], path, "weight must be a whole number from 1 to %d", maxWeight)
		return "", nil, 0
	}
	return v.Content[0].Value, v.Content[0], uint32(w)
}

func (p *parser) weightedAddr(file string, v *conf.Node, path string, family int) (netip.Addr, uint32) {
	_, n, w := p.weightPair(file, v, path, "IP address")
	if n == nil {
		return netip.Addr{}, 0
	}
	t := &DCTarget{}
	if !p.addrNode(file, n, path, t, family) {
		return netip.Addr{}, 0
	}
	return append(t.V4, t.V6...)[0], w
}

func (p *parser) weightedCNAME(file string, v *conf.Node, path string) (string, uint32) {
	s, n, w := p.weightPair(file, v, path, "CNAME target.")
	if n == nil {
		return "", 0
	}
	if !strings.HasSuffix(s, ".") || !validDomain(s) {
		p.errf(file, n, path, "%q is not a fully-qualified CNAME target ending in '.'", s)
		return "", 0
	}
	return s, w
}

func (p *parser) weightedGroup(file, name string, v *conf.Node, path string, family int) WeightedItem {
	it := WeightedItem{Name: name}
	if v.Kind != conf.MappingNode || len(v.Content) == 0 {
		p.errf(file, v, path, "expected a group: a mapping of label: [IP, weight]")
		return it
	}
	p.l.Pairs(v, path, func(key string, k, v *conf.Node) {
		if len(it.Addrs) == maxGroupAddrs {
			p.errf(file, k, path+"."+key, "at most %d addresses per group", maxGroupAddrs)
			return
		}
		a, w := p.weightedAddr(file, v, path+"."+key, family)
		if a.IsValid() {
			it.Addrs, it.Weights, it.Weight = append(it.Addrs, a), append(it.Weights, w), it.Weight+w
		}
	})
	return it
}
