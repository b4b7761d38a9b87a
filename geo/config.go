package geo

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is the parsed `geoip:` section. It is plain data: Build compiles it.
type Config struct {
	File                   string
	UndefinedDatacentersOK bool
	Maps                   []*MapConfig      // in file order
	Resources              []*ResourceConfig // in file order
	// Warnings are problems that do not stop loading (host bits cleared,
	// duplicate nets); Build logs them.
	Warnings []string
}

// Where locates a config item for error messages: "file:line: key".
type Where struct {
	File string
	Line int
	Key  string
}

func (w Where) String() string { return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Key) }

// Errorf formats an error prefixed with the location.
func (w Where) Errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", w, fmt.Sprintf(format, args...))
}

// MapConfig is one entry of `maps`.
type MapConfig struct {
	Name         string
	Where        Where
	Datacenters  []string
	GeoIP2DB     string // resolved against the config's base directory; "" = none
	DBWhere      Where
	Map          *MapNode // nil when the map has no `map` key
	Nets         []Net    // in file order; Build sorts by specificity
	AutoDCCoords map[string]Coord
	AutoDCLimit  int // -1 when unset: min(3, DCs with coordinates)
	IgnoreECS    bool
}

// Coord is a latitude/longitude in degrees.
type Coord struct{ Lat, Lon float64 }

// ValueKind tells what a map value is.
type ValueKind uint8

// Map value kinds.
const (
	ValueList ValueKind = iota // a DC list, possibly empty (NODATA)
	ValueAuto                  // `auto`: sort by distance
	ValueMap                   // a nested level
)

// MapValue is a value in the `map` tree.
type MapValue struct {
	Kind  ValueKind
	DCs   []string
	Node  *MapNode
	Where Where
}

// MapNode is one level of `map`: keys matched case-insensitively.
type MapNode struct {
	Default  *MapValue            // nil: inherited from the parent level
	Children map[string]*MapValue // lower-cased key
}

// Net is one `nets` entry.
type Net struct {
	Prefix netip.Prefix
	DCs    []string
	Where  Where
}

// ResourceConfig is one entry of `resources`.
type ResourceConfig struct {
	Name      string
	Where     Where
	Map       string
	SkipFirst bool
	DCMap     map[string]*DCTarget
}

// DCTarget is what one DC of a resource answers: addresses or a CNAME.
type DCTarget struct {
	V4, V6 []netip.Addr
	CNAME  string // fully qualified, ending in '.'
	Where  Where
}

// LoadConfigFile reads a standalone geoip YAML file whose top level is the
// `geoip:` section; relative paths in it are resolved against its directory.
func LoadConfigFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("geoip config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ParseConfig(path, &doc, filepath.Dir(path))
}

// ParseConfig parses the `geoip:` YAML section (node is its mapping node, or
// a document holding it). file names it in errors; baseDir resolves
// geoip2_db and nets-file paths. Every error reads
// "file:line: geoip.maps.NAME.map.EU: reason"; all of them are joined.
func ParseConfig(file string, node *yaml.Node, baseDir string) (*Config, error) {
	p := &parser{baseDir: baseDir, cfg: &Config{File: file}, badMaps: map[string]bool{}}
	p.parseTop(file, node)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return p.cfg, nil
}

type parser struct {
	baseDir string
	cfg     *Config
	errs    []error
	badMaps map[string]bool // maps with errors: resources using them add none
}

func (p *parser) errf(file string, n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, Where{file, line, key}.Errorf(format, args...))
}

func (p *parser) warnf(w Where, format string, args ...any) {
	p.cfg.Warnings = append(p.cfg.Warnings, w.String()+": "+fmt.Sprintf(format, args...))
}

// deref follows documents and aliases to the node holding the value.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch {
		case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
			n = n.Content[0]
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// pairs iterates a mapping's key/value nodes, reporting non-scalar and
// duplicate keys. fold makes the duplicate check case-insensitive.
func (p *parser) pairs(file string, n *yaml.Node, path string, fold bool, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			p.errf(file, n.Content[i], path, "keys must be plain strings")
			continue
		}
		id := k.Value
		if fold {
			id = strings.ToLower(id)
		}
		if line, dup := seen[id]; dup {
			p.errf(file, k, path+"."+k.Value, "duplicate key (first at line %d)", line)
			continue
		}
		seen[id] = k.Line
		fn(k.Value, k, v)
	}
}

func (p *parser) parseTop(file string, n *yaml.Node) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errf(file, n, "geoip", "expected a mapping with maps and resources")
		return
	}
	var resNode *yaml.Node
	p.pairs(file, n, "geoip", false, func(key string, k, v *yaml.Node) {
		path := "geoip." + key
		switch key {
		case "maps":
			if v == nil || v.Kind != yaml.MappingNode {
				p.errf(file, k, path, "expected a mapping of map names")
				return
			}
			p.pairs(file, v, path, false, func(name string, k, v *yaml.Node) {
				if m := p.parseMap(file, name, k, v, path+"."+name); m != nil {
					p.cfg.Maps = append(p.cfg.Maps, m)
				} else {
					p.badMaps[name] = true
				}
			})
		case "resources":
			resNode = v
			if v == nil || v.Kind != yaml.MappingNode {
				p.errf(file, k, path, "expected a mapping of resource names")
				resNode = nil
			}
		case "undefined_datacenters_ok":
			p.cfg.UndefinedDatacentersOK = p.boolVal(file, v, path)
		default:
			p.errf(file, k, path, "unknown key (want maps, resources, undefined_datacenters_ok)")
		}
	})
	if resNode != nil {
		// Resources are parsed after every map so references can be checked.
		p.pairs(file, resNode, "geoip.resources", false, func(name string, k, v *yaml.Node) {
			if r := p.parseResource(file, name, k, v, "geoip.resources."+name); r != nil {
				p.cfg.Resources = append(p.cfg.Resources, r)
			}
		})
	}
	if len(p.cfg.Maps) == 0 && len(p.errs) == 0 {
		p.errf(file, n, "geoip.maps", "at least one map is required")
	}
}

func (p *parser) boolVal(file string, v *yaml.Node, path string) bool {
	var b bool
	if v == nil || v.Kind != yaml.ScalarNode || v.Decode(&b) != nil {
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
func (p *parser) parseMap(file, name string, k, v *yaml.Node, path string) *MapConfig {
	if v == nil || v.Kind != yaml.MappingNode {
		p.errf(file, k, path, "expected a mapping")
		return nil
	}
	m := &MapConfig{Name: name, Where: Where{file, k.Line, path}, AutoDCLimit: -1}
	nErr := len(p.errs)
	vals := map[string]*yaml.Node{}
	keys := map[string]*yaml.Node{}
	p.pairs(file, v, path, false, func(key string, k, v *yaml.Node) {
		switch key {
		case "datacenters", "geoip2_db", "map", "nets", "auto_dc_coords", "auto_dc_limit", "ignore_ecs":
			vals[key], keys[key] = v, k
		default:
			p.errf(file, k, path+"."+key, "unknown key (want datacenters, geoip2_db, map, nets, auto_dc_coords, auto_dc_limit, ignore_ecs)")
		}
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
		m.DBWhere = Where{file, v.Line, path + ".geoip2_db"}
		if v.Kind != yaml.ScalarNode || isNull(v) || v.Value == "" {
			p.errf(file, v, path+".geoip2_db", "expected a file name")
		} else {
			m.GeoIP2DB = p.resolve(v.Value)
		}
	}
	if v, ok := vals["auto_dc_coords"]; ok {
		m.AutoDCCoords = p.parseCoords(file, v, path+".auto_dc_coords", dcset)
	}
	if v, ok := vals["auto_dc_limit"]; ok {
		var n int
		if v.Kind != yaml.ScalarNode || v.Decode(&n) != nil || n < 0 || n > 254 {
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
		if v.Kind != yaml.MappingNode {
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
	if len(p.errs) > nErr {
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

func (p *parser) parseDatacenters(file string, v *yaml.Node, path string) []string {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
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
		e = deref(e)
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

func dcName(e *yaml.Node) (string, error) {
	if e == nil || e.Kind != yaml.ScalarNode || isNull(e) || e.Value == "" {
		return "", errors.New("expected a data centre name")
	}
	if strings.ContainsAny(e.Value, "/ \t*?[]\\") {
		return "", fmt.Errorf("data centre name %q may not contain '/', blanks or glob characters", e.Value)
	}
	return e.Value, nil
}

func (p *parser) parseCoords(file string, v *yaml.Node, path string, dcs map[string]bool) map[string]Coord {
	out := map[string]Coord{}
	if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
		p.errf(file, v, path, "expected a mapping of DC: [latitude, longitude]")
		return out
	}
	p.pairs(file, v, path, false, func(dc string, k, v *yaml.Node) {
		kp := path + "." + dc
		if !dcs[dc] {
			p.errf(file, k, kp, "%q is not in datacenters", dc)
			return
		}
		var ll []float64
		if v.Kind != yaml.SequenceNode || v.Decode(&ll) != nil || len(ll) != 2 {
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

type valueCtx struct {
	file string
	dcs  map[string]bool
	auto bool // auto_dc_coords given, so `auto` values are allowed
}

// parseDCList parses a DC list: a sequence (possibly empty) or one name.
func (p *parser) parseDCList(c valueCtx, v *yaml.Node, path string) ([]string, bool) {
	var elems []*yaml.Node
	switch {
	case v != nil && v.Kind == yaml.SequenceNode:
		elems = v.Content
	case v != nil && v.Kind == yaml.ScalarNode && !isNull(v):
		elems = []*yaml.Node{v}
	default:
		p.errf(c.file, v, path, "expected a data centre list (use [] for NODATA)")
		return nil, false
	}
	out := []string{}
	seen := map[string]bool{}
	ok := true
	for _, e := range elems {
		e = deref(e)
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

func (p *parser) parseValue(c valueCtx, v *yaml.Node, path string, depth int, allowMap bool) *MapValue {
	w := Where{c.file, v.Line, path}
	switch {
	case v.Kind == yaml.MappingNode:
		if !allowMap {
			p.errf(c.file, v, path, "default must be a data centre list or auto, not a nested map")
			return nil
		}
		return &MapValue{Kind: ValueMap, Node: p.parseMapNode(c, v, path, depth+1), Where: w}
	case v.Kind == yaml.ScalarNode && strings.EqualFold(v.Value, "auto") && v.Tag != "!!null":
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

func (p *parser) parseMapNode(c valueCtx, v *yaml.Node, path string, depth int) *MapNode {
	n := &MapNode{Children: map[string]*MapValue{}}
	p.pairs(c.file, v, path, true, func(key string, k, v *yaml.Node) {
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

// parseNets parses `nets`: an inline mapping or the name of a file with the
// same syntax (plus gdnsd's `=>` and `;` comments).
func (p *parser) parseNets(c valueCtx, v *yaml.Node, path string) []Net {
	if v.Kind == yaml.ScalarNode && !isNull(v) {
		name := p.resolve(v.Value)
		data, err := os.ReadFile(name)
		if err != nil {
			p.errf(c.file, v, path, "nets file: %v", err)
			return nil
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(gdnsdToYAML(data), &doc); err != nil {
			p.errs = append(p.errs, fmt.Errorf("%s: %s: %w", name, path, err))
			return nil
		}
		fv := deref(&doc)
		if fv == nil {
			return nil // an empty nets file is no nets
		}
		c.file = name
		v = fv
	}
	if v.Kind != yaml.MappingNode {
		p.errf(c.file, v, path, "expected a mapping of PREFIX: [DC, ...] or a file name")
		return nil
	}
	var nets []Net
	index := map[netip.Prefix]int{}
	p.pairs(c.file, v, path, false, func(key string, k, v *yaml.Node) {
		kp := path + "." + key
		pfx, err := netip.ParsePrefix(key)
		if err != nil {
			p.errf(c.file, k, kp, "expected ADDRESS/LENGTH: %v", err)
			return
		}
		w := Where{c.file, k.Line, kp}
		if pfx.Addr().Zone() != "" {
			p.errf(c.file, k, kp, "zones are not allowed in prefixes")
			return
		}
		if m := pfx.Masked(); m != pfx {
			p.warnf(w, "host bits past /%d cleared: using %s", pfx.Bits(), m)
			pfx = m
		}
		if why := inV4Alias(pfx); why != "" {
			p.errf(c.file, k, kp, "inside %s, which is looked up as IPv4: write the IPv4 prefix instead", why)
			return
		}
		if v.Kind == yaml.ScalarNode && strings.EqualFold(v.Value, "auto") {
			p.errf(c.file, v, kp, "nets values are data centre lists; auto is not allowed")
			return
		}
		dcs, ok := p.parseDCList(c, v, kp)
		if !ok {
			return
		}
		if i, dup := index[pfx]; dup {
			p.warnf(w, "%s also set at line %d; this later entry wins", pfx, nets[i].Where.Line)
			nets[i] = Net{pfx, dcs, w}
			return
		}
		index[pfx] = len(nets)
		nets = append(nets, Net{pfx, dcs, w})
	})
	return nets
}

// gdnsdToYAML turns gdnsd-style nets lines (`10/8 => [a, b]`, `;` comments)
// into YAML, keeping line numbers.
func gdnsdToYAML(data []byte) []byte {
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		l = stripComment(l)
		l = strings.Replace(l, "=>", ":", 1)
		lines[i] = l
	}
	return []byte(strings.Join(lines, "\n"))
}

// stripComment cuts a `#` or `;` comment outside quotes. A '#' must follow
// a blank or start the line, as in YAML, so "a#b" is kept.
func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == ';', ch == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

func (p *parser) parseResource(file, name string, k, v *yaml.Node, path string) *ResourceConfig {
	if v == nil || v.Kind != yaml.MappingNode {
		p.errf(file, k, path, "expected a mapping with map and dcmap")
		return nil
	}
	r := &ResourceConfig{Name: name, Where: Where{file, k.Line, path}, DCMap: map[string]*DCTarget{}}
	if strings.ContainsAny(name, "/ \t*?[]\\") {
		p.errf(file, k, path, "resource name may not contain '/', blanks or glob characters")
	}
	var dcmapNode, dcmapKey, mapKey *yaml.Node
	p.pairs(file, v, path, false, func(key string, k, v *yaml.Node) {
		kp := path + "." + key
		switch key {
		case "map":
			mapKey = k
			if v.Kind != yaml.ScalarNode || isNull(v) || v.Value == "" {
				p.errf(file, v, kp, "expected a map name")
				return
			}
			r.Map = v.Value
		case "skip_first":
			r.SkipFirst = p.boolVal(file, v, kp)
		case "dcmap":
			dcmapNode, dcmapKey = v, k
		default:
			p.errf(file, k, kp, "unknown key (want map, skip_first, dcmap)")
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
	if dcmapNode.Kind != yaml.MappingNode {
		p.errf(file, dcmapKey, path+".dcmap", "expected a mapping of DC: addresses or CNAME target")
		return nil
	}
	inMap := map[string]bool{}
	for _, d := range m.Datacenters {
		inMap[d] = true
	}
	p.pairs(file, dcmapNode, path+".dcmap", false, func(dc string, k, v *yaml.Node) {
		kp := path + ".dcmap." + dc
		if !inMap[dc] {
			p.errf(file, k, kp, "%q is not a data centre of map %q", dc, m.Name)
			return
		}
		if t := p.parseTarget(file, v, kp); t != nil {
			r.DCMap[dc] = t
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

func (p *parser) parseTarget(file string, v *yaml.Node, path string) *DCTarget {
	t := &DCTarget{Where: Where{file, v.Line, path}}
	switch v.Kind {
	case yaml.ScalarNode:
		if isNull(v) || v.Value == "" {
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
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			p.errf(file, v, path, "empty address list")
			return nil
		}
		ok := true
		for _, e := range v.Content {
			ok = p.addrNode(file, deref(e), path, t, 0) && ok
		}
		if ok && len(t.V4) > 0 && len(t.V6) > 0 {
			p.errf(file, v, path, "a plain list holds one family; use {addrs_v4: [...], addrs_v6: [...]} for both")
			return nil
		}
		if !ok {
			return nil
		}
		return t
	case yaml.MappingNode:
		ok := true
		p.pairs(file, v, path, false, func(key string, k, v *yaml.Node) {
			kp := path + "." + key
			fam := 0
			switch key {
			case "addrs_v4":
				fam = 4
			case "addrs_v6":
				fam = 6
			default:
				p.errf(file, k, kp, "unknown key (want addrs_v4, addrs_v6)")
				ok = false
				return
			}
			elems := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				elems = v.Content
			}
			for _, e := range elems {
				ok = p.addrNode(file, deref(e), kp, t, fam) && ok
			}
		})
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

func (p *parser) addrNode(file string, e *yaml.Node, path string, t *DCTarget, fam int) bool {
	if e == nil || e.Kind != yaml.ScalarNode || isNull(e) {
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

func (p *parser) addAddr(file string, e *yaml.Node, path string, t *DCTarget, a netip.Addr, fam int) bool {
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
