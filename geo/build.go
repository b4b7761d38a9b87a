package geo

import (
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Geo is a compiled, immutable geoip configuration. It is safe for
// concurrent use; reloads build a new Geo and swap it.
type Geo struct {
	maps      []*gmap
	mapByName map[string]*gmap
	resources []*Resource
	resByName map[string]*Resource
	sites     []string // every DC of every map, first-seen order
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

// Resource is one compiled resource: its DCs' answers and, for every list
// of its map, the DCs it walks (undefined DCs dropped, skip_first applied).
type Resource struct {
	g        *Geo
	idx      int
	name     string
	m        *gmap
	targets  []target // by map DC index
	lists    [][]uint8
	byName   map[string]uint8
	hasCNAME bool
	// svc are the service types an address must pass, the built-in up
	// left out; upThresh is multifo's fraction.
	svc      []string
	upThresh float64
}

type target struct {
	defined bool
	v4, v6  []netip.Addr
	cname   string
}

// Name is the resource name.
func (r *Resource) Name() string { return r.name }

// Map is the name of the resource's map.
func (r *Resource) Map() string { return r.m.name }

// HasCNAME reports whether any DC answers with a CNAME (DYNC only).
func (r *Resource) HasCNAME() bool { return r.hasCNAME }

// HasDC reports whether dc is a defined DC of the resource, for pins.
func (r *Resource) HasDC(dc string) bool { _, ok := r.byName[dc]; return ok }

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
	g := &Geo{mapByName: map[string]*gmap{}, resByName: map[string]*Resource{}}
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
	for _, rc := range cfg.Resources {
		r, err := g.buildResource(rc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.idx = len(g.resources)
		g.resources = append(g.resources, r)
		g.resByName[r.name] = r
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return g, nil
}

func (g *Geo) buildResource(rc *ResourceConfig) (*Resource, error) {
	m, ok := g.mapByName[rc.Map]
	if !ok {
		return nil, rc.Where.Errorf("no map named %q", rc.Map)
	}
	r := &Resource{g: g, name: rc.Name, m: m, targets: make([]target, len(m.dcs)), byName: map[string]uint8{}, upThresh: rc.UpThresh}
	if r.upThresh == 0 {
		r.upThresh = DefaultUpThresh
	}
	for _, s := range rc.ServiceTypes {
		if s != "up" {
			r.svc = append(r.svc, s)
		}
	}
	for i, d := range m.dcs {
		t, ok := rc.DCMap[d]
		if !ok {
			continue
		}
		r.targets[i] = target{defined: true, v4: t.V4, v6: t.V6, cname: t.CNAME}
		r.byName[d] = uint8(i)
		if t.CNAME != "" {
			r.hasCNAME = true
		}
	}
	if len(r.byName) == 0 {
		return nil, rc.Where.Errorf("no data centre of map %q has a dcmap entry", m.name)
	}
	r.lists = make([][]uint8, len(m.lists))
	for i, l := range m.lists {
		var out []uint8
		for _, d := range l {
			if r.targets[d].defined {
				out = append(out, d)
			}
		}
		if rc.SkipFirst && len(out) >= 2 {
			out = out[1:]
		}
		r.lists[i] = out
	}
	return r, nil
}
