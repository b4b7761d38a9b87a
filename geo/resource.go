package geo

import (
	"net/netip"
	"strings"
)

// kind is a resource's plugin, for the query path's switch.
type kind uint8

const (
	kindGeoIP kind = iota
	kindMetafo
	kindMultifo
	kindSimplefo
	kindWeighted
	kindStatic
	kindReflect
	kindNull
)

var kindByPlugin = map[string]kind{
	PluginGeoIP: kindGeoIP, PluginMetafo: kindMetafo, PluginMultifo: kindMultifo, PluginSimplefo: kindSimplefo,
	PluginWeighted: kindWeighted, PluginStatic: kindStatic, PluginReflect: kindReflect, PluginNull: kindNull,
}

// reflect's modes, by resource name (gdnsd's order).
const (
	reflectDNS uint8 = iota
	reflectEDNS
	reflectBest
	reflectBoth
)

var reflectModes = []string{"dns", "edns", "best", "both"}

// Resource is one compiled resource of any plugin.
type Resource struct {
	g      *Geo
	idx    int // in g.all
	kind   kind
	plugin string
	name   string

	// geoip and metafo: the DCs, what each answers, and for every DC
	// list (geoip: every list of the map; metafo: its one list) the DCs
	// walked (undefined DCs dropped, skip_first applied).
	m       *gmap // geoip
	mapIdx  int   // geoip: m's index in g.maps
	dcs     []string
	targets []target // by DC index
	lists   [][]uint8
	byName  map[string]uint8
	dcIdx   []uint8  // 0..len(dcs)-1: a pin's one-DC list is dcIdx[d:d+1]
	svc     []string // monitors of CNAME DCs (only the built-in up and down)

	// multifo, simplefo, weighted: the families (nil: none).
	v4, v6  *family
	wcnames *family        // weighted's CNAME set
	wUp     weightedHealth // weighted's sets with everything up
	// fix4 and fix6 answer when nothing is monitored (multifo: every
	// address; simplefo: the primary) and for static and null; cname is
	// static's; reflect is reflect's mode.
	fix4, fix6 []netip.Addr
	cname      string
	reflect    uint8

	hasCNAME bool   // may answer a CNAME, here or below (DYNC only)
	dcCNAME  []bool // meta: per DC, for pins
	// perClient: the answer depends on the client (a geoip map, reflect,
	// weighted's random choice), here or below; varies: so does
	// something below, beyond geoip's own map lookup.
	perClient, varies bool
}

// target is what one DC of a meta resource answers: a CNAME or another
// resource (pin >= 0: that resource's DC, from `%geoip!res/dc`).
type target struct {
	defined bool
	cname   string
	ref     *Resource
	pin     int
}

// family is one address family (or weighted's CNAME set) of an address
// plugin's resource with its parameters.
type family struct {
	addrs        []netip.Addr
	svc          []string // every monitor, the built-in up and down included
	upThresh     float64
	ignoreHealth bool
	multi        bool
	items        []witem // weighted
}

// Name is the resource name.
func (r *Resource) Name() string { return r.name }

// Plugin is the resource's plugin.
func (r *Resource) Plugin() string { return r.plugin }

// Map is the name of a geoip resource's map ("" for other plugins).
func (r *Resource) Map() string {
	if r.m == nil {
		return ""
	}
	return r.m.name
}

// HasCNAME reports whether the resource may answer a CNAME, itself or
// through a resource it refers to (DYNC only).
func (r *Resource) HasCNAME() bool { return r.hasCNAME }

// HasCNAMEAt reports whether the resource pinned to dc (`res/dc`) may
// answer a CNAME; without a dc, HasCNAME.
func (r *Resource) HasCNAMEAt(dc string) bool {
	if d, ok := r.byName[dc]; ok && dc != "" {
		return r.dcCNAME[d]
	}
	return r.hasCNAME
}

// HasDC reports whether dc is a defined DC of a geoip or metafo resource,
// for pins.
func (r *Resource) HasDC(dc string) bool { _, ok := r.byName[dc]; return ok }

// Pinnable reports whether zone records may pin one DC (`res/dc`): geoip
// and metafo resources.
func (r *Resource) Pinnable() bool { return r.kind == kindGeoIP || r.kind == kindMetafo }

// Lookup finds a resource by plugin and name, as a zone's
// `DYNA plugin!resource` names it: reflect's names are dns, edns, best
// and both in any case ("" is best), null takes any name.
func (g *Geo) Lookup(plugin, name string) (*Resource, bool) {
	switch plugin {
	case PluginReflect:
		if name == "" {
			name = "best"
		}
		name = strings.ToLower(name)
	case PluginNull:
		name = ""
	}
	r, ok := g.byPlugin[plugin][name]
	return r, ok
}

// meta reports whether r walks DCs (geoip, metafo).
func (r *Resource) meta() bool { return r.kind == kindGeoIP || r.kind == kindMetafo }

// adminKey is the admin_state key of DC d: `geoip/RES/DC`, `metafo/RES/DC`.
func (r *Resource) adminKey(d int) string { return r.plugin + "/" + r.name + "/" + r.dcs[d] }

// IsPlugin reports whether name is one of gdnsd's resolver plugins geo
// provides.
func IsPlugin(name string) bool { _, ok := kindByPlugin[name]; return ok }

// PluginNames lists the resolver plugins geo provides.
func PluginNames() []string { return append([]string{PluginGeoIP}, pluginKeys...) }
