package geo

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// Config is the parsed `geoip:` section. It is plain data: Build compiles it.
type Config struct {
	File                   string
	UndefinedDatacentersOK bool
	Maps                   []*MapConfig      // in file order
	Resources              []*ResourceConfig // geoip's, in file order
	// Metafo are metafo's resources, synthesized ones included; Leaves
	// the resources of multifo, simplefo, weighted and static (from
	// `plugins:` or synthesized from dcmap values).
	Metafo []*ResourceConfig
	Leaves []*LeafConfig
	// Warnings are problems that do not stop loading (host bits cleared,
	// duplicate nets); Build logs them.
	Warnings []string
}

// Where locates a config item for the problems Build finds after
// parsing: its position and dotted key.
type Where struct {
	conf.Pos
	Key string
}

func (w Where) String() string { return (&conf.Error{Pos: w.Pos, Key: w.Key}).Error() }

// Errorf returns a *conf.Error about the item.
func (w Where) Errorf(format string, args ...any) error { return w.Pos.Errorf(w.Key, format, args...) }

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

// ResourceConfig is one resource of geoip (`resources`, with a map) or
// metafo (`metafo.resources`, with a fixed datacenters order).
type ResourceConfig struct {
	Plugin string // PluginGeoIP or PluginMetafo
	Name   string
	Where  Where
	Map    string // geoip
	// Datacenters is metafo's failover order.
	Datacenters []string
	SkipFirst   bool
	DCMap       map[string]*DCTarget
	// Params are the resource's own parameters filled from the top
	// level's; every synthesized DC resource inherits them in turn.
	Params
}

// Params are the plugin parameters gdnsd passes down, filling only what
// is missing: plugin top level → resource → synthesized DC resource or
// addrs_v4/addrs_v6 stanza.
type Params struct {
	// ServiceTypes are the checks every address passes to be up (absent:
	// the built-in `up`, as gdnsd; an empty list monitors nothing);
	// ServiceWhere locates each name for CheckServiceTypes.
	ServiceTypes []string
	ServiceWhere []Where
	// UpThresh is the fraction of a family's n addresses (multifo) or
	// weight (weighted) that must be up: ceil(n × UpThresh).
	UpThresh     float64
	IgnoreHealth bool // multifo: answer every address, still reporting DOWN
	Multi        bool // weighted: several items per answer
	// Plugin is the `plugin` key in scope: the plugin of `!res`
	// references and of hash DC values (default multifo).
	Plugin      string
	PluginWhere Where

	hasSvc, hasUpThresh, hasIgnore, hasMulti bool
}

// monitors are the service types each address (or CNAME) is monitored
// with, as gdnsd: ServiceTypes as given (an empty list: none), or the
// built-in up when no level sets the key.
func (p *Params) monitors() []string {
	if !p.hasSvc {
		return []string{"up"}
	}
	return p.ServiceTypes
}

// fill copies every parameter p lacks from parent.
func (p *Params) fill(parent *Params) {
	if !p.hasSvc && parent.hasSvc {
		p.ServiceTypes, p.ServiceWhere, p.hasSvc = parent.ServiceTypes, parent.ServiceWhere, true
	}
	if !p.hasUpThresh && parent.hasUpThresh {
		p.UpThresh, p.hasUpThresh = parent.UpThresh, true
	}
	if !p.hasIgnore && parent.hasIgnore {
		p.IgnoreHealth, p.hasIgnore = parent.IgnoreHealth, true
	}
	if !p.hasMulti && parent.hasMulti {
		p.Multi, p.hasMulti = parent.Multi, true
	}
	if p.Plugin == "" {
		p.Plugin, p.PluginWhere = parent.Plugin, parent.PluginWhere
	}
}

// threshold is UpThresh, or the default when unset.
func (p *Params) threshold() float64 {
	if p.hasUpThresh {
		return p.UpThresh
	}
	return DefaultUpThresh
}

// DefaultUpThresh is gdnsd multifo's default up_thresh.
const DefaultUpThresh = 0.5

// DCTarget is what one DC of a resource answers: a CNAME, or another
// plugin's resource (Ref). Addresses and hashes are synthesized resources
// (Leaf, or Meta for a metafo resource synthesized by geoip) named
// `geoip_RES_DC` / `metafo_RES_DC`, as gdnsd; V4 and V6 repeat the
// addresses of a synthesized multifo resource.
type DCTarget struct {
	V4, V6 []netip.Addr
	CNAME  string // fully qualified, ending in '.'
	Ref    *Ref
	Leaf   *LeafConfig
	Meta   *ResourceConfig
	Where  Where
}

// Ref is a `%plugin!resource` reference (Resource may be "res/dc" for
// geoip and metafo, or empty for reflect and null).
type Ref struct {
	Plugin, Resource string
	Where            Where
}

// LoadConfigFile reads a standalone geoip YAML file whose top level is the
// `geoip:` section; relative paths in it are resolved against its directory.
func LoadConfigFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("geoip config: %w", err)
	}
	root, err := conf.DecodeYAML(path, data)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, root, filepath.Dir(path))
}

// ParseConfig parses the `geoip:` YAML section (node is its mapping node;
// nil for an empty file). file names it in errors; baseDir resolves
// geoip2_db and nets-file paths. Every error reads
// "file:line: geoip.maps.NAME.map.EU: reason"; all of them are reported,
// sorted by position.
func ParseConfig(file string, node *conf.Node, baseDir string) (*Config, error) {
	p := &parser{baseDir: baseDir, cfg: &Config{File: file}, badMaps: map[string]bool{}}
	p.parseTop(file, node)
	if err := p.l.Err(); err != nil {
		return nil, err
	}
	return p.cfg, nil
}
