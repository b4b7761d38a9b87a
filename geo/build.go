package geo

import (
	"errors"
	"log/slog"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Geo is a compiled, immutable geoip configuration. It is safe for
// concurrent use; reloads build a new Geo and swap it.
type Geo struct {
	maps      []*gmap
	mapByName map[string]*gmap
	resources []*Resource // geoip's
	resByName map[string]*Resource
	// all holds every resource of every plugin (Resource.idx indexes
	// it); byPlugin finds them by plugin and name.
	all      []*Resource
	byPlugin map[string]map[string]*Resource
	sites    []string // every DC of every map and metafo resource, first-seen order
}

// gmap is one compiled map.
type gmap struct {
	name      string
	dcs       []string
	tree      tree
	leaves    []leafInfo
	lists     [][]uint8 // de-duplicated DC lists (indexes into dcs)
	ignoreECS bool
	nets      int // number of nets entries, for logs
}

type leafInfo struct {
	list   uint32
	reason Reason
}

// Resource returns the named resource.
func (g *Geo) Resource(name string) (*Resource, bool) {
	r, ok := g.resByName[name]
	return r, ok
}

// Maps lists the map names in config order.
func (g *Geo) Maps() []string {
	out := make([]string, len(g.maps))
	for i, m := range g.maps {
		out[i] = m.name
	}
	return out
}

// Resources lists the resource names in config order.
func (g *Geo) Resources() []string {
	out := make([]string, len(g.resources))
	for i, r := range g.resources {
		out[i] = r.name
	}
	return out
}

// Build opens the databases, compiles every map into a merged prefix tree
// and every resource, and validates what the parser could not (database
// types, auto mode needing a City database). cfg's warnings are logged.
// Databases are closed before Build returns: the trees hold all they need.
func Build(cfg *Config, log *slog.Logger) (*Geo, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, w := range cfg.Warnings {
		log.Warn("geoip config", "warning", w)
	}
	g := &Geo{mapByName: map[string]*gmap{}, resByName: map[string]*Resource{}, byPlugin: map[string]map[string]*Resource{}}
	dbs := map[string]*maxminddb.Reader{}
	defer func() {
		for _, r := range dbs {
			r.Close()
		}
	}()
	var errs []error
	seenSite := map[string]bool{}
	for _, mc := range cfg.Maps {
		start := time.Now()
		m, err := buildMap(mc, dbs)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		g.maps = append(g.maps, m)
		g.mapByName[m.name] = m
		for _, d := range m.dcs {
			if !seenSite[d] {
				seenSite[d] = true
				g.sites = append(g.sites, d)
			}
		}
		log.Info("geoip map compiled", "map", m.name, "db", mc.GeoIP2DB, "nets", m.nets,
			"dc_lists", len(m.lists), "nodes", len(m.tree.nodes)/2, "leaves", len(m.leaves),
			"took", time.Since(start).Round(time.Millisecond))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := g.buildResources(cfg); err != nil {
		return nil, err
	}
	return g, nil
}
