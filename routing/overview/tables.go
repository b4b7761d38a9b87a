package overview

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/routing"
)

// routeView is one cluster's route for one entry site: a cell of the
// routes table.
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

// etcdView is the etcd section, with the audit log newest first.
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
