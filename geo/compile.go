package geo

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// dbRecord is the part of a GeoIP2/GeoLite2/DB-IP City or Country record the
// map walk needs.
type dbRecord struct {
	Continent struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"continent"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
		Names   struct {
			En string `maxminddb:"en"`
		} `maxminddb:"names"` // DB-IP Lite has names but no iso_code
	} `maxminddb:"subdivisions"`
	City struct {
		Names struct {
			En string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

// mapBuilder holds the state of compiling one map.
type mapBuilder struct {
	m       *gmap
	mc      *MapConfig
	dcIndex map[string]uint8
	listIdx map[string]uint32
	leafIdx map[leafInfo]uint32
	root    *cnode
	city    bool // DB is City-shaped: walk subdivisions and city
	coords  []struct {
		dc       uint8
		lat, lon float64
	} // DCs with coordinates, datacenters order
	limit    int
	fallback uint32 // list for "no location": top default, or datacenters when that is auto
}

// cnode is a compiled map level; def is the effective (inherited) default.
type cnode struct {
	def  cval
	kids map[string]cval
}

type cval struct {
	kind ValueKind
	list uint32
	node *cnode
}

func buildMap(mc *MapConfig, dbs map[string]*maxminddb.Reader) (*gmap, error) {
	b := &mapBuilder{
		m:       &gmap{name: mc.Name, dcs: mc.Datacenters, ignoreECS: mc.IgnoreECS, nets: len(mc.Nets)},
		mc:      mc,
		dcIndex: map[string]uint8{},
		listIdx: map[string]uint32{},
		leafIdx: map[leafInfo]uint32{},
	}
	all := make([]uint8, len(mc.Datacenters))
	for i, d := range mc.Datacenters {
		b.dcIndex[d] = uint8(i)
		all[i] = uint8(i)
	}
	allList := b.intern(all)
	for i, d := range mc.Datacenters {
		if c, ok := mc.AutoDCCoords[d]; ok {
			b.coords = append(b.coords, struct {
				dc       uint8
				lat, lon float64
			}{uint8(i), c.Lat * math.Pi / 180, c.Lon * math.Pi / 180})
		}
	}
	b.limit = mc.AutoDCLimit
	if b.limit < 0 {
		b.limit = min(3, len(b.coords))
	}
	if b.limit == 0 || b.limit > len(b.coords) {
		b.limit = len(b.coords)
	}

	// Top default: `default`, else auto (with coordinates) or datacenters.
	top := cval{kind: ValueList, list: allList}
	if mc.AutoDCCoords != nil {
		top = cval{kind: ValueAuto}
	}
	var root *MapNode
	if mc.Map != nil {
		root = mc.Map
	} else {
		root = &MapNode{}
	}
	b.root = b.compile(root, top)
	b.fallback = allList
	if b.root.def.kind == ValueList {
		b.fallback = b.root.def.list
	}

	var db *maxminddb.Reader
	if mc.GeoIP2DB != "" {
		var err error
		db = dbs[mc.GeoIP2DB]
		if db == nil {
			db, err = maxminddb.Open(mc.GeoIP2DB)
			if err != nil {
				return nil, mc.DBWhere.Errorf("%v", err)
			}
			dbs[mc.GeoIP2DB] = db
		}
		b.city = strings.Contains(db.Metadata.DatabaseType, "City")
		if mc.AutoDCCoords != nil && !b.city {
			return nil, mc.DBWhere.Errorf("auto_dc_coords needs a City database; %s has type %q", mc.GeoIP2DB, db.Metadata.DatabaseType)
		}
	}
	defLeaf := b.leaf(leafInfo{b.fallback, ReasonDefault})
	var r4, r6 []rng
	if db != nil {
		var err error
		if r4, r6, err = b.walkDB(db); err != nil {
			return nil, mc.DBWhere.Errorf("%s: %v", mc.GeoIP2DB, err)
		}
	}

	// Nets: a v6 net that contains ::/96 also covers IPv4 (gdnsd keeps IPv4
	// there); explicit IPv4 nets are more specific than any such net.
	n4, n6 := &netNode{}, &netNode{}
	proj := -1
	for i, n := range mc.Nets {
		if n.Prefix.Addr().Is4() {
			continue
		}
		n6.insert(addrU128(n.Prefix.Addr()), n.Prefix.Bits(), b.leaf(leafInfo{b.listOf(n.DCs), ReasonNets}))
		if n.Prefix.Bits() <= 96 && n.Prefix.Contains(pfxCompat.Addr()) &&
			(proj < 0 || n.Prefix.Bits() > mc.Nets[proj].Prefix.Bits()) {
			proj = i
		}
	}
	if proj >= 0 {
		n4.insert(u128{}, 0, b.leaf(leafInfo{b.listOf(mc.Nets[proj].DCs), ReasonNets}))
	}
	for _, n := range mc.Nets {
		if n.Prefix.Addr().Is4() {
			n4.insert(addrU128(n.Prefix.Addr()), n.Prefix.Bits(), b.leaf(leafInfo{b.listOf(n.DCs), ReasonNets}))
		}
	}

	m := b.m
	same := func(x, y uint32) bool { return m.leaves[x].list == m.leaves[y].list }
	tb := &treeBuilder{t: &m.tree, sameList: same}
	tb.cover = coverSpace(r4, defLeaf, same)
	m.tree.root4 = tb.build(u128{}, 0, n4, -1)
	tb.cover = coverSpace(r6, defLeaf, same)
	m.tree.root6 = tb.build(u128{}, 0, n6, -1)
	m.tree.jump4 = m.tree.makeJumps(m.tree.root4)
	m.tree.jump6 = m.tree.makeJumps(m.tree.root6)
	return m, nil
}

func (b *mapBuilder) intern(l []uint8) uint32 {
	k := string(l)
	if i, ok := b.listIdx[k]; ok {
		return i
	}
	i := uint32(len(b.m.lists))
	b.m.lists = append(b.m.lists, append([]uint8{}, l...))
	b.listIdx[k] = i
	return i
}

func (b *mapBuilder) listOf(dcs []string) uint32 {
	l := make([]uint8, len(dcs))
	for i, d := range dcs {
		l[i] = b.dcIndex[d]
	}
	return b.intern(l)
}

func (b *mapBuilder) leaf(li leafInfo) uint32 {
	if i, ok := b.leafIdx[li]; ok {
		return i
	}
	i := uint32(len(b.m.leaves))
	b.m.leaves = append(b.m.leaves, li)
	b.leafIdx[li] = i
	return i
}

// compile turns a config level into a cnode, resolving inherited defaults.
func (b *mapBuilder) compile(n *MapNode, parentDef cval) *cnode {
	c := &cnode{def: parentDef, kids: map[string]cval{}}
	if n.Default != nil {
		c.def = b.value(n.Default, parentDef)
	}
	for k, v := range n.Children {
		if v.Kind == ValueMap {
			c.kids[k] = cval{kind: ValueMap, node: b.compile(v.Node, c.def)}
			continue
		}
		c.kids[k] = b.value(v, c.def)
	}
	return c
}

func (b *mapBuilder) value(v *MapValue, parentDef cval) cval {
	switch v.Kind {
	case ValueAuto:
		return cval{kind: ValueAuto}
	case ValueList:
		return cval{kind: ValueList, list: b.listOf(v.DCs)}
	}
	return parentDef
}

// lookup walks the levels (continent, country, subdivisions..., city). Past
// the country level an unmatched key tries the next deeper level, as gdnsd.
// matched reports whether any key matched.
func (b *mapBuilder) lookup(chain []string) (v cval, matched bool) {
	node := b.root
	for i, depth := 0, 0; i < len(chain); {
		kid, ok := node.kids[strings.ToLower(chain[i])]
		switch {
		case ok && kid.kind == ValueMap:
			node, matched = kid.node, true
			i++
			depth++
		case ok:
			return kid, true
		case depth >= 2:
			i++
		default:
			return node.def, matched
		}
	}
	return node.def, matched
}

// walkDB maps every DB network to a leaf, memoizing per data record.
func (b *mapBuilder) walkDB(db *maxminddb.Reader) (r4, r6 []rng, err error) {
	memo := map[uintptr]uint32{}
	var rec dbRecord
	chain := make([]string, 0, 8)
	for res := range db.Networks() {
		if err := res.Err(); err != nil {
			return nil, nil, err
		}
		leaf, ok := memo[res.Offset()]
		if !ok {
			rec = dbRecord{}
			if err := res.Decode(&rec); err != nil {
				return nil, nil, fmt.Errorf("record for %s: %w", res.Prefix(), err)
			}
			chain = chain[:0]
			if rec.Continent.Code != "" {
				chain = append(chain, rec.Continent.Code)
				if rec.Country.ISOCode != "" {
					chain = append(chain, rec.Country.ISOCode)
					if b.city {
						for _, s := range rec.Subdivisions {
							if s.ISOCode != "" {
								chain = append(chain, s.ISOCode)
							} else if s.Names.En != "" {
								chain = append(chain, s.Names.En)
							}
						}
						if rec.City.Names.En != "" {
							chain = append(chain, rec.City.Names.En)
						}
					}
				}
			}
			v, matched := b.lookup(chain)
			li := leafInfo{reason: ReasonGeoIP}
			if !matched {
				li.reason = ReasonDefault
			}
			switch {
			case v.kind == ValueList:
				li.list = v.list
			case rec.Location.Latitude != nil && rec.Location.Longitude != nil && len(b.coords) > 0:
				li.list, li.reason = b.auto(*rec.Location.Latitude, *rec.Location.Longitude), ReasonAuto
			default:
				li.list, li.reason = b.fallback, ReasonDefault
			}
			leaf = b.leaf(li)
			memo[res.Offset()] = leaf
		}
		p := res.Prefix()
		x := addrU128(p.Addr())
		r := rng{x, x.lastOf(p.Bits()), leaf}
		switch {
		case p.Addr().Is4():
			r4 = append(r4, r)
		case p.Bits() <= 96 && p.Contains(pfxCompat.Addr()):
			// A v6 record over ::/96 holds all of IPv4 too.
			r6 = append(r6, r)
			r4 = append(r4, rng{u128{}, u128{^uint64(0), ^uint64(0)}, leaf})
		default:
			r6 = append(r6, r)
		}
	}
	return r4, r6, nil
}

// auto sorts the DCs with coordinates by great-circle distance from the
// client (stable, so ties keep datacenters order) and keeps the limit.
func (b *mapBuilder) auto(lat, lon float64) uint32 {
	type dist struct {
		dc uint8
		d  float64
	}
	la, lo := lat*math.Pi/180, lon*math.Pi/180
	ds := make([]dist, len(b.coords))
	for i, c := range b.coords {
		ds[i] = dist{c.dc, haversine(la, lo, c.lat, c.lon)}
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].d < ds[j].d })
	l := make([]uint8, b.limit)
	for i := range l {
		l[i] = ds[i].dc
	}
	return b.intern(l)
}

// haversine is the central angle between two points given in radians.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	s1 := math.Sin((lat2 - lat1) / 2)
	s2 := math.Sin((lon2 - lon1) / 2)
	a := s1*s1 + math.Cos(lat1)*math.Cos(lat2)*s2*s2
	return 2 * math.Asin(math.Min(1, math.Sqrt(a)))
}
