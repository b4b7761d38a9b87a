package authdns

import (
	"slices"
	"strings"

	"github.com/geotraffic/geotraffic/geo"
)

// stateGrid is geo's States (gdnsdctl's view) as a table: one row per
// site, map or resource, one column per data centre; monitored addresses
// are listed apart.
type stateGrid struct {
	Sites     []string
	Rows      []gridRow
	Monitored []stateEntry
}

type gridRow struct {
	Name  string // "site", "geoip/text-addrs"
	Kind  string // "site", "map" or "resource"
	Cells []gridCell
}

type gridCell struct {
	stateEntry
	Site  string
	Known bool // the row has this data centre
}

type stateEntry struct {
	Key  string
	Info geo.StateInfo
}

// Forced tells whether an admin_state entry (file or etcd) sets the state.
func (e stateEntry) Forced() bool { return e.Info.Source != "" }

// buildGrid sorts states into the grid; g tells a geoip map from a
// resource (nil: no geoip config, and then no states either).
func buildGrid(states map[string]geo.StateInfo, g *geo.Geo) stateGrid {
	var grid stateGrid
	rows := map[string]map[string]stateEntry{} // row → site → entry
	for key, info := range states {
		row, site, ok := gridPlace(key)
		if !ok {
			grid.Monitored = append(grid.Monitored, stateEntry{key, info})
			continue
		}
		if rows[row] == nil {
			rows[row] = map[string]stateEntry{}
		}
		rows[row][site] = stateEntry{key, info}
		if !slices.Contains(grid.Sites, site) {
			grid.Sites = append(grid.Sites, site)
		}
	}
	slices.Sort(grid.Sites)
	slices.SortFunc(grid.Monitored, func(a, b stateEntry) int { return strings.Compare(a.Key, b.Key) })
	for name, cells := range rows {
		r := gridRow{Name: name, Kind: rowKind(name, g)}
		for _, site := range grid.Sites {
			e, ok := cells[site]
			r.Cells = append(r.Cells, gridCell{stateEntry: e, Site: site, Known: ok})
		}
		grid.Rows = append(grid.Rows, r)
	}
	slices.SortFunc(grid.Rows, func(a, b gridRow) int {
		if ka, kb := kindOrder(a.Kind), kindOrder(b.Kind); ka != kb {
			return ka - kb
		}
		return strings.Compare(a.Name, b.Name)
	})
	return grid
}

// gridPlace splits "site/DC", "geoip/NAME/DC" and "metafo/NAME/DC" into a
// row and a data centre; a monitored "ADDR/SERVICE" is no grid key.
func gridPlace(key string) (row, site string, ok bool) {
	parts := strings.Split(key, "/")
	switch {
	case len(parts) == 2 && parts[0] == "site":
		return "site", parts[1], true
	case len(parts) == 3 && (parts[0] == geo.PluginGeoIP || parts[0] == geo.PluginMetafo):
		return parts[0] + "/" + parts[1], parts[2], true
	}
	return "", "", false
}

func rowKind(row string, g *geo.Geo) string {
	if row == "site" {
		return "site"
	}
	plugin, name, _ := strings.Cut(row, "/")
	if plugin == geo.PluginGeoIP && g != nil {
		if _, ok := g.Lookup(plugin, name); !ok {
			return "map"
		}
	}
	return "resource"
}

func kindOrder(kind string) int {
	switch kind {
	case "site":
		return 0
	case "map":
		return 1
	}
	return 2
}
