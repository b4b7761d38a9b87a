package geo

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

type parser struct {
	baseDir string
	cfg     *Config
	l       conf.List
	badMaps map[string]bool // maps with errors: resources using them add none
	// defaults holds the top-level parameters, which every resource
	// inherits where it has none of its own (gdnsd's inheritance).
	defaults Params
}

// at is the position of n in file; line 1 for a missing node (an empty
// file).
func at(file string, n *conf.Node) conf.Pos {
	if n == nil {
		return conf.At(file, 1)
	}
	return conf.Pos{File: file, Line: n.Pos.Line, Col: n.Pos.Col}
}

func (p *parser) errf(file string, n *conf.Node, key, format string, args ...any) {
	p.l.Addf(at(file, n), key, format, args...)
}

func (p *parser) warnf(w Where, format string, args ...any) {
	p.cfg.Warnings = append(p.cfg.Warnings, w.String()+": "+fmt.Sprintf(format, args...))
}

func (p *parser) parseTop(file string, n *conf.Node) {
	if n == nil || n.Kind != conf.MappingNode {
		p.errf(file, n, "geoip", "expected a mapping with maps and resources")
		return
	}
	var resNode *conf.Node
	p.l.Fields(n, "geoip", append([]string{"maps", "resources", "undefined_datacenters_ok"}, paramKeys...), func(key string, k, v *conf.Node) {
		path := "geoip." + key
		switch key {
		case "maps":
			if v == nil || v.Kind != conf.MappingNode {
				p.errf(file, k, path, "expected a mapping of map names")
				return
			}
			p.l.Pairs(v, path, func(name string, k, v *conf.Node) {
				if m := p.parseMap(file, name, k, v, path+"."+name); m != nil {
					p.cfg.Maps = append(p.cfg.Maps, m)
				} else {
					p.badMaps[name] = true
				}
			})
		case "resources":
			resNode = v
			if v == nil || v.Kind != conf.MappingNode {
				p.errf(file, k, path, "expected a mapping of resource names")
				resNode = nil
			}
		case "undefined_datacenters_ok":
			p.cfg.UndefinedDatacentersOK = p.boolVal(file, v, path)
		default:
			p.parseParam(file, key, v, path, &p.defaults)
		}
	})
	if resNode != nil {
		// Resources are parsed after every map so references can be checked.
		p.l.Pairs(resNode, "geoip.resources", func(name string, k, v *conf.Node) {
			if r := p.parseResource(PluginGeoIP, file, name, k, v, "geoip.resources."+name, &p.defaults); r != nil {
				p.cfg.Resources = append(p.cfg.Resources, r)
			}
		})
	}
	if len(p.cfg.Maps) == 0 && p.l.Len() == 0 {
		p.errf(file, n, "geoip.maps", "at least one map is required")
	}
}

func (p *parser) boolVal(file string, v *conf.Node, path string) bool {
	b, ok := v.Bool()
	if !ok {
		p.errf(file, v, path, "expected true or false")
	}
	return b
}

func (p *parser) mapByName(name string) *MapConfig {
	for _, m := range p.cfg.Maps {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// parseMap parses one map; nil when it is unusable (errors are recorded).
func (p *parser) parseMap(file, name string, k, v *conf.Node, path string) *MapConfig {
	if v == nil || v.Kind != conf.MappingNode {
		p.errf(file, k, path, "expected a mapping")
		return nil
	}
	m := &MapConfig{Name: name, Where: Where{at(file, k), path}, AutoDCLimit: -1}
	nErr := p.l.Len()
	vals := map[string]*conf.Node{}
	keys := map[string]*conf.Node{}
	mapKeys := []string{"datacenters", "geoip2_db", "map", "nets", "auto_dc_coords", "auto_dc_limit", "ignore_ecs"}
	p.l.Fields(v, path, mapKeys, func(key string, k, v *conf.Node) {
		vals[key], keys[key] = v, k
	})
	dcv, ok := vals["datacenters"]
	if !ok {
		p.errf(file, k, path+".datacenters", "required")
		return nil
	}
	m.Datacenters = p.parseDatacenters(file, dcv, path+".datacenters")
	if len(m.Datacenters) == 0 {
		return nil
	}
	dcset := map[string]bool{}
	for _, d := range m.Datacenters {
		dcset[d] = true
	}
	if v, ok := vals["geoip2_db"]; ok {
		m.DBWhere = Where{at(file, v), path + ".geoip2_db"}
		if v.Kind != conf.ScalarNode || v.Value == "" {
			p.errf(file, v, path+".geoip2_db", "expected a file name")
		} else {
			m.GeoIP2DB = p.resolve(v.Value)
		}
	}
	if v, ok := vals["auto_dc_coords"]; ok {
		m.AutoDCCoords = p.parseCoords(file, v, path+".auto_dc_coords", dcset)
	}
	if v, ok := vals["auto_dc_limit"]; ok {
		if n, ok := v.Int(); !ok || n < 0 || n > 254 {
			p.errf(file, v, path+".auto_dc_limit", "expected a whole number from 0 (all) to 254")
		} else {
			m.AutoDCLimit = n
		}
		if _, ok := vals["auto_dc_coords"]; !ok {
			p.errf(file, keys["auto_dc_limit"], path+".auto_dc_limit", "needs auto_dc_coords")
		}
	}
	if v, ok := vals["ignore_ecs"]; ok {
		m.IgnoreECS = p.boolVal(file, v, path+".ignore_ecs")
	}
	vctx := valueCtx{file: file, dcs: dcset, auto: m.AutoDCCoords != nil}
	if v, ok := vals["map"]; ok {
		if v.Kind != conf.MappingNode {
			p.errf(file, v, path+".map", "expected a mapping of continent codes (and default)")
		} else {
			m.Map = p.parseMapNode(vctx, v, path+".map", 0)
		}
		if m.GeoIP2DB == "" {
			p.errf(file, keys["map"], path+".map", "needs geoip2_db")
		}
	}
	if m.AutoDCCoords != nil && m.GeoIP2DB == "" {
		p.errf(file, keys["auto_dc_coords"], path+".auto_dc_coords", "needs geoip2_db (a City database)")
	}
	if v, ok := vals["nets"]; ok {
		m.Nets = p.parseNets(vctx, v, path+".nets")
	}
	if p.l.Len() > nErr {
		return nil
	}
	return m
}

func (p *parser) resolve(name string) string {
	if filepath.IsAbs(name) || p.baseDir == "" {
		return name
	}
	return filepath.Join(p.baseDir, name)
}

func (p *parser) parseDatacenters(file string, v *conf.Node, path string) []string {
	if v.Kind != conf.SequenceNode || len(v.Content) == 0 {
		p.errf(file, v, path, "expected a non-empty list of data centre names")
		return nil
	}
	if len(v.Content) > 254 {
		p.errf(file, v, path, "at most 254 data centres, got %d", len(v.Content))
		return nil
	}
	var out []string
	seen := map[string]bool{}
	ok := true
	for _, e := range v.Content {
		name, err := dcName(e)
		if err != nil {
			p.errf(file, e, path, "%v", err)
			ok = false
			continue
		}
		if strings.EqualFold(name, "auto") || strings.EqualFold(name, "default") {
			p.errf(file, e, path, "%q is reserved and cannot name a data centre", name)
			ok = false
			continue
		}
		if seen[name] {
			p.errf(file, e, path, "data centre %q listed twice", name)
			ok = false
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	if !ok {
		return nil
	}
	return out
}

func dcName(e *conf.Node) (string, error) {
	if e == nil || e.Kind != conf.ScalarNode || e.Value == "" {
		return "", errors.New("expected a data centre name")
	}
	if strings.ContainsAny(e.Value, "/ \t*?[]\\") {
		return "", fmt.Errorf("data centre name %q may not contain '/', blanks or glob characters", e.Value)
	}
	return e.Value, nil
}

func (p *parser) parseCoords(file string, v *conf.Node, path string, dcs map[string]bool) map[string]Coord {
	out := map[string]Coord{}
	if v.Kind != conf.MappingNode || len(v.Content) == 0 {
		p.errf(file, v, path, "expected a mapping of DC: [latitude, longitude]")
		return out
	}
	p.l.Pairs(v, path, func(dc string, k, v *conf.Node) {
		kp := path + "." + dc
		if !dcs[dc] {
			p.errf(file, k, kp, "%q is not in datacenters", dc)
			return
		}
		ll, ok := floats(v)
		if !ok || len(ll) != 2 {
			p.errf(file, v, kp, "expected [latitude, longitude] in degrees")
			return
		}
		if math.IsNaN(ll[0]) || ll[0] < -90 || ll[0] > 90 || math.IsNaN(ll[1]) || ll[1] < -180 || ll[1] > 180 {
			p.errf(file, v, kp, "latitude must be within [-90, 90] and longitude within [-180, 180]")
			return
		}
		out[dc] = Coord{ll[0], ll[1]}
	})
	return out
}

// floats reads a list of numbers.
func floats(v *conf.Node) ([]float64, bool) {
	if v.Kind != conf.SequenceNode {
		return nil, false
	}
	out := make([]float64, len(v.Content))
	for i, e := range v.Content {
		f, ok := e.Float()
		if !ok {
			return nil, false
		}
		out[i] = f
	}
	return out, true
}

type valueCtx struct {
	file string
	dcs  map[string]bool
	auto bool // auto_dc_coords given, so `auto` values are allowed
}

// parseDCList parses a DC list: a sequence (possibly empty) or one name.
func (p *parser) parseDCList(c valueCtx, v *conf.Node, path string) ([]string, bool) {
	var elems []*conf.Node
	switch {
	case v != nil && v.Kind == conf.SequenceNode:
		elems = v.Content
	case v != nil && v.Kind == conf.ScalarNode && v.Kind != conf.NullNode:
		elems = []*conf.Node{v}
	default:
		p.errf(c.file, v, path, "expected a data centre list (use [] for NODATA)")
		return nil, false
	}
	out := []string{}
	seen := map[string]bool{}
	ok := true
	for _, e := range elems {
		name, err := dcName(e)
		switch {
		case err != nil:
			p.errf(c.file, e, path, "%v", err)
			ok = false
		case !c.dcs[name]:
			p.errf(c.file, e, path, "%q is not in datacenters", name)
			ok = false
		case seen[name]:
			p.errf(c.file, e, path, "%q listed twice", name)
			ok = false
		default:
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, ok
}

func (p *parser) parseValue(c valueCtx, v *conf.Node, path string, depth int, allowMap bool) *MapValue {
	w := Where{at(c.file, v), path}
	switch {
	case v.Kind == conf.MappingNode:
		if !allowMap {
			p.errf(c.file, v, path, "default must be a data centre list or auto, not a nested map")
			return nil
		}
		return &MapValue{Kind: ValueMap, Node: p.parseMapNode(c, v, path, depth+1), Where: w}
	case v.Kind == conf.ScalarNode && strings.EqualFold(v.Value, "auto"):
		if !c.auto {
			p.errf(c.file, v, path, "auto needs auto_dc_coords in this map")
			return nil
		}
		return &MapValue{Kind: ValueAuto, Where: w}
	}
	dcs, ok := p.parseDCList(c, v, path)
	if !ok {
		return nil
	}
	return &MapValue{Kind: ValueList, DCs: dcs, Where: w}
}

func (p *parser) parseMapNode(c valueCtx, v *conf.Node, path string, depth int) *MapNode {
	n := &MapNode{Children: map[string]*MapValue{}}
	p.l.PairsFold(v, path, func(key string, k, v *conf.Node) {
		kp := path + "." + key
		if strings.EqualFold(key, "default") {
			n.Default = p.parseValue(c, v, kp, depth, false)
			return
		}
		if key == "" {
			p.errf(c.file, k, kp, "empty key")
			return
		}
		if val := p.parseValue(c, v, kp, depth, true); val != nil {
			n.Children[strings.ToLower(key)] = val
		}
	})
	return n
}
