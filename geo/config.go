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
	Resources              []*ResourceConfig // in file order
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

// ResourceConfig is one entry of `resources`.
type ResourceConfig struct {
	Name      string
	Where     Where
	Map       string
	SkipFirst bool
	DCMap     map[string]*DCTarget
	// ServiceTypes are the checks every address of the resource passes
	// to be up (none: always up, as gdnsd's `up`); ServiceWhere locates
	// each name for CheckServiceTypes.
	ServiceTypes []string
	ServiceWhere []Where
	// UpThresh is multifo's fraction: a DC is down when fewer than
	// ceil(n × UpThresh) of a family's n addresses are up.
	UpThresh float64
}

// DefaultUpThresh is gdnsd multifo's default up_thresh.
const DefaultUpThresh = 0.5

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
