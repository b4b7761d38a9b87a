package overview

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
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

type siteView struct {
	Name             string
	X, Y             string // marker centre
	LabelX, LabelY   string // label start
	Lat, Lon         string
	Class            string // state-up or state-down
	State            string // "up" or "DOWN"
	Why              string // why it is DOWN, as routing explains it; "" when up
	By               string // the admin_state line or etcd key that set its state; "" when none
	Direct, Shutdown bool   // in the cluster drawn
	Title            string
}

type arrowView struct {
	From, To string
	D        string // path data
	Kind     string // "configured" or "rerouted"
	Color    string // the stroke; the arrow head of the same colour is #head-Kind
	Title    string
}

// Arrow colours: the shared stylesheet's accent and degraded colours.
const (
	colorConfigured = "#2457c5"
	colorRerouted   = "#a15c00"
)

type routeView struct {
	Cluster, Site string
	Status, Class string
	EntryDown     bool
	Hops          []hopView
	Apps          []appView
}

// matrixRow is one entry site's routes, a cell per cluster; nil where
// the site is no entry site of the cluster.
type matrixRow struct {
	Site      string
	EntryDown bool
	Cells     []*routeView
}

type hopView struct{ Site, Title string }

type appView struct{ Name, DC, Reason, Detail string }

type etcdView struct {
	Endpoints string
	Prefix    string
	Connected bool
	Revision  int64
	Overrides []string
	Audit     []auditView // newest first
	AuditErr  string
}

type auditView struct {
	When     time.Time
	Who      string
	Command  string
	Selector string
	Revision int64
	Changes  []changeView
}

type changeView struct{ Key, Old, New string }

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

// siteState says whether site is DOWN and why (routing's explanation, as
// in the routes' details), and which admin_state line or etcd key set its
// state, DOWN or UP ("" when nothing did).
func siteState(st *adminstate.State, site string) (down bool, why, by string) {
	e, ok := st.Lookup(routing.SiteKey(site))
	if !ok {
		return false, "", ""
	}
	by = e.Origin("")
	if e.Source == "" {
		by = fmt.Sprintf("admin_state line %d: %s => %s", e.Line, e.Pattern, e.StateString())
	}
	down, why = routing.Down(st, site)
	return down, why, by
}

func sites(cfg *routing.Config, st *adminstate.State, c *routing.Cluster, drawn []routing.Result) []siteView {
	direct := map[string]bool{}
	for _, r := range drawn {
		for _, h := range r.Reasons {
			if h.Next == "direct" {
				direct[h.Site] = true
			}
		}
	}
	var out []siteView
	for _, name := range sortedSites(cfg) {
		s := cfg.Sites[name]
		p := project(s.Lat, s.Lon)
		down, why, by := siteState(st, name)
		sv := siteView{Name: name, X: num(p.X), Y: num(p.Y), LabelX: num(p.X + markerRadius + 3), LabelY: num(p.Y + 4),
			Lat: degrees(s.Lat), Lon: degrees(s.Lon), Class: "state-up", State: "up", Why: why, By: by, Direct: direct[name]}
		if down {
			sv.Class, sv.State = "state-down", "DOWN"
		}
		if c != nil {
			_, sv.Shutdown = c.Shutdown[name]
		}
		sv.Title = siteTitle(sv, c)
		out = append(out, sv)
	}
	return out
}

func siteTitle(s siteView, c *routing.Cluster) string {
	t := s.Name + ": " + s.State
	if s.By != "" {
		t += ", set by " + s.By
	}
	t += " [" + s.Lat + ", " + s.Lon + "]"
	if s.Direct {
		t += "; talks to the applications of " + c.Name
	}
	if s.Shutdown {
		t += "; in traffic_shutdown of " + c.Name
	}
	return t
}

func sortedSites(cfg *routing.Config) []string {
	out := make([]string, 0, len(cfg.Sites))
	for n := range cfg.Sites {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// arrows draws each hop of the cluster's paths once: a site makes one
// decision per cluster, so every path through it takes the same next hop.
func arrows(cfg *routing.Config, drawn []routing.Result) []arrowView {
	type edge struct{ from, to string }
	seen := map[edge]int{}
	users := map[edge][]string{}
	var out []arrowView
	for _, r := range drawn {
		for _, h := range r.Reasons {
			a, okA := cfg.Sites[h.Site]
			b, okB := cfg.Sites[h.Next]
			if !okA || !okB || h.Site == h.Next {
				continue // "direct", "" (nowhere to go), or an unknown name
			}
			e := edge{h.Site, h.Next}
			users[e] = append(users[e], r.Site)
			if _, ok := seen[e]; ok {
				continue
			}
			seen[e] = len(out)
			kind, color := "rerouted", colorRerouted
			if h.Reason == routing.ReasonConfigured {
				kind, color = "configured", colorConfigured
			}
			out = append(out, arrowView{From: h.Site, To: h.Next, Kind: kind, Color: color,
				D:     arrowPath(project(a.Lat, a.Lon), project(b.Lat, b.Lon)),
				Title: h.Site + " → " + h.Next + ": " + h.Reason + hopDetail(h.Detail)})
		}
	}
	for e, i := range seen {
		out[i].Title += "; on the path of users entering at " + strings.Join(users[e], ", ")
	}
	slices.SortFunc(out, func(x, y arrowView) int { return cmp.Or(cmp.Compare(x.From, y.From), cmp.Compare(x.To, y.To)) })
	return out
}

func hopDetail(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}

func matrix(clusters []string, routes []routeView) []matrixRow {
	col := map[string]int{}
	for i, c := range clusters {
		col[c] = i
	}
	row := map[string]int{}
	var out []matrixRow
	for i := range routes {
		r := &routes[i]
		j, ok := row[r.Site]
		if !ok {
			j = len(out)
			row[r.Site] = j
			out = append(out, matrixRow{Site: r.Site, Cells: make([]*routeView, len(clusters))})
		}
		out[j].EntryDown = out[j].EntryDown || r.EntryDown
		if c, ok := col[r.Cluster]; ok {
			out[j].Cells[c] = r
		}
	}
	slices.SortFunc(out, func(a, b matrixRow) int { return cmp.Compare(a.Site, b.Site) })
	return out
}

func routeOf(r routing.Result) routeView {
	rv := routeView{Cluster: r.Cluster, Site: r.Site, Status: r.Status, Class: statusClass(r.Status), EntryDown: r.EntryDown}
	for i, site := range r.Path {
		hv := hopView{Site: site}
		if i < len(r.Reasons) {
			h := r.Reasons[i]
			hv.Title = h.Reason + hopDetail(h.Detail)
		}
		rv.Hops = append(rv.Hops, hv)
	}
	apps := make([]string, 0, len(r.Apps))
	for a := range r.Apps {
		apps = append(apps, a)
	}
	slices.Sort(apps)
	for _, a := range apps {
		ar := r.Apps[a]
		rv.Apps = append(rv.Apps, appView{Name: a, DC: ar.DC, Reason: ar.Reason, Detail: ar.Detail})
	}
	return rv
}

// statusClass colours a route status: ok is up, degraded is degraded, and
// a route that carries no traffic (shutdown, unreachable) is down.
func statusClass(status string) string {
	switch status {
	case routing.StatusOK:
		return "state-up"
	case routing.StatusDegraded:
		return "state-degraded"
	case routing.StatusShutdown, routing.StatusUnreachable:
		return "state-down"
	}
	return "state-unknown"
}

func etcdOf(e *Etcd) *etcdView {
	ev := &etcdView{Endpoints: strings.Join(e.Endpoints, ", "), Prefix: e.Prefix, Connected: e.Connected,
		Revision: e.Revision, Overrides: e.Overrides, AuditErr: e.AuditErr}
	recs := e.Audit
	if len(recs) > AuditShown {
		recs = recs[len(recs)-AuditShown:]
	}
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		av := auditView{When: r.When, Who: r.Who, Command: r.Command, Selector: r.Selector, Revision: r.Revision}
		for _, c := range r.Changes {
			av.Changes = append(av.Changes, changeView{Key: c.Key, Old: string(c.Old), New: string(c.New)})
		}
		ev.Audit = append(ev.Audit, av)
	}
	return ev
}

// degrees formats a coordinate as routing.yaml gives it.
func degrees(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
