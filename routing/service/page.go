package service

import (
	"context"
	"net/http"
	"time"

	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/internal/statuspage"
	"github.com/geotraffic/geotraffic/routing/overview"
)

// auditTimeout bounds the audit log read of one page render: the page
// refreshes every second, and a slow etcd must not hold it.
const auditTimeout = time.Second

// overviewPage renders the overview of the routes in force; the request's
// ?cluster= chooses the cluster whose routes the map draws.
func (s *Service) overviewPage(r *http.Request) (statuspage.Page, error) {
	snap := s.Current()
	in := overview.Input{Config: snap.Config, State: snap.State, Results: snap.Results, Generation: snap.Generation,
		Resolved: snap.At, RoutingPath: s.opts.RoutingPath, AdminStatePath: s.opts.AdminStatePath,
		Cluster: r.URL.Query().Get("cluster"), Warnings: warningStrings(snap.Warnings), Errors: s.Errors()}
	if e := s.EtcdStatus(); e != nil {
		in.Etcd = &overview.Etcd{Endpoints: e.Endpoints, Prefix: e.Prefix, Connected: e.Connected, Revision: e.Revision,
			Overrides: e.Overrides}
		if e.Connected {
			in.Etcd.Audit, in.Etcd.AuditErr = s.auditLog(r.Context())
		} else {
			in.Etcd.AuditErr = "etcd is unreachable"
		}
	}
	return overview.Page(in, time.Now())
}

// auditLog reads the audit log's last records for the page.
func (s *Service) auditLog(ctx context.Context) ([]etcdstore.AuditRecord, string) {
	ctx, cancel := context.WithTimeout(ctx, auditTimeout)
	defer cancel()
	recs, err := etcdstore.Log(ctx, s.opts.Etcd.Client, s.opts.Etcd.Layout, overview.AuditShown)
	if err != nil {
		return nil, err.Error()
	}
	return recs, ""
}
