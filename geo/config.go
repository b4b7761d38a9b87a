package geo

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/geotraffic/geotraffic/internal/yamlerr"
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
		return nil, yamlerr.Wrap(path, data, err)
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
