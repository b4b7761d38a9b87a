package routing

import (
	"sort"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// Config is a validated routing.yaml. Values are read-only once returned by
// Load or Parse.
type Config struct {
	File     string
	Sites    map[string]Site
	Clusters map[string]*Cluster
	// Warnings are problems that do not reject the file, in file order,
	// e.g. a backend that no app route uses.
	Warnings []*conf.Error
}

// Site is a data centre with its coordinates, used to pick the nearest
// alternative when configured choices are exhausted.
type Site struct {
	Name     string
	Lat, Lon float64
	Line     int
}

// Cluster is one cache cluster (text, upload, ...): its route table, the
// sites whose frontends refuse all traffic, and the applications behind it.
type Cluster struct {
	Name     string
	Line     int
	Routes   map[string]Route // by entry site
	Shutdown map[string]int   // site -> line of its traffic_shutdown item
	Apps     map[string]*App
}

// Route is one route_table line: a site either talks to applications
// directly or forwards to the first usable of its ordered choices.
type Route struct {
	Site    string
	Direct  bool
	Choices []string // ordered next hops; empty when Direct
	Line    int      // 0 when Override
	// Override: the route was set by WithOverrides, not read from the file.
	Override bool
	// Source is the override's RouteSpec.Source ("" for the file's).
	Source string

	choiceLines []int
}

// AppMode says how an app's route picks a DC.
type AppMode string

const (
	// Ordered apps use the first DC of their list that is not DOWN.
	Ordered AppMode = "ordered"
	// ActiveActive apps use the first of their DCs met along the cache
	// path, else the nearest to the path's direct site.
	ActiveActive AppMode = "active-active"
)

// App is an application behind a cluster.
type App struct {
	Name     string
	Line     int
	Mode     AppMode
	DCs      []string
	Backends map[string]string // DC -> backend host
	// Override: Mode and DCs were set by WithOverrides, not read from the
	// file (the backends always come from the file).
	Override bool
	// Source is the override's AppRouteSpec.Source ("" for the file's).
	Source string

	dcLines      []int
	backendLines map[string]int
}

// ClusterNames returns the cluster names, sorted.
func (c *Config) ClusterNames() []string { return sortedKeys(c.Clusters) }

// SiteNames returns the route_table sites of the cluster, sorted.
func (c *Cluster) SiteNames() []string { return sortedKeys(c.Routes) }

// AppNames returns the app names, sorted.
func (c *Cluster) AppNames() []string { return sortedKeys(c.Apps) }

// routedApps lists the apps whose route names site as one of its DCs:
// only those can use the site as their DC, so only they let it be promoted
// to direct (a backend that no route names is never used).
func (c *Cluster) routedApps(site string) []string {
	var out []string
	for _, name := range c.AppNames() {
		for _, dc := range c.Apps[name].DCs {
			if dc == site {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
