package overview

import (
	"slices"
	"time"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/routing"
)

// Input is what the page shows: one snapshot of the routes in force, and
// what the service knows beside it.
type Input struct {
	Config  *routing.Config
	State   *adminstate.State
	Results []routing.Result
	// Generation and Resolved identify the snapshot.
	Generation uint64
	Resolved   time.Time
	// RoutingPath and AdminStatePath are the files followed.
	RoutingPath, AdminStatePath string
	// Cluster is the cluster whose routes the map draws (the ?cluster=
	// parameter); "" means the first.
	Cluster string
	// Warnings are the snapshot's, as `file:line: key: reason`.
	Warnings []string
	// Errors are the refused inputs (file kind or "etcd") with why.
	Errors map[string]string
	// Etcd is nil without etcd.
	Etcd *Etcd
}

// Etcd is the etcd side of the page.
type Etcd struct {
	Endpoints []string
	Prefix    string
	Connected bool
	Revision  int64
	Overrides []string // sources of the overrides in force
	// Audit is the audit log's last records, oldest first; AuditErr says
	// why it could not be read.
	Audit    []etcdstore.AuditRecord
	AuditErr string
}

// AuditShown is how many audit records the page shows.
const AuditShown = 20

// view is the template's data: everything formatted, nothing decided in
// the template.
type view struct {
	Cluster, Unknown string // the cluster drawn; the ?cluster= value that named none
	Clusters         []string
	Generation       uint64
	Resolved         time.Time
	RoutingPath      string
	AdminStatePath   string
	Width, Height    string
	MarkerR          string // a site marker's radius
	DirectR          string // the ring of a site talking to the applications
	ShutdownR        string // the dashed ring of a site in traffic_shutdown
	Land             []string
	Sites            []siteView
	Arrows           []arrowView
	Routes           []routeView // by cluster, then entry site
	Matrix           []matrixRow // entry sites × Clusters
	Etcd             *etcdView
}

// build turns the input into the template's data.
func build(in Input) view {
	names := in.Config.ClusterNames()
	v := view{Clusters: names, Generation: in.Generation, Resolved: in.Resolved, RoutingPath: in.RoutingPath,
		AdminStatePath: in.AdminStatePath, Width: num(mapWidth), Height: num(mapHeight), Land: landPaths(),
		MarkerR: num(markerRadius), DirectR: num(markerRadius + 3.5), ShutdownR: num(markerRadius + 6)}
	v.Cluster, v.Unknown = chooseCluster(names, in.Cluster)
	var drawn []routing.Result
	for _, r := range in.Results {
		if r.Cluster == v.Cluster {
			drawn = append(drawn, r)
		}
		v.Routes = append(v.Routes, routeOf(r))
	}
	v.Matrix = matrix(v.Clusters, v.Routes)
	v.Sites = sites(in.Config, in.State, in.Config.Clusters[v.Cluster], drawn)
	v.Arrows = arrows(in.Config, drawn)
	if in.Etcd != nil {
		v.Etcd = etcdOf(in.Etcd)
	}
	return v
}

// chooseCluster returns the cluster asked for, else the first, and the
// name asked for when it is no cluster.
func chooseCluster(names []string, asked string) (string, string) {
	if slices.Contains(names, asked) {
		return asked, ""
	}
	if len(names) == 0 {
		return "", asked
	}
	return names[0], asked
}
