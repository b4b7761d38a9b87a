package routing

import (
	"strings"
	"testing"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

// etcdEntry is a site object as conftool.ToAdminState makes it.
func etcdEntry(site string, down bool, rev int64) adminstate.Entry {
	return adminstate.Entry{Pattern: SiteKey(site), Down: down, Source: "etcd",
		Key: "/conftool/v1/sites/" + site, Revision: rev}
}

// Explanations name where an override came from, and where a DOWN site
// was marked, so that an operator knows what to change back.
func TestSourcesInDetails(t *testing.T) {
	const rsrc, asrc = "etcd /conftool/v1/routes/text/ulsfo@42", "etcd /conftool/v1/app-routes/text/api@43"
	cfg, err := mustParse(t, seeds).WithOverrides(Overrides{
		Routes:    routes("ulsfo", RouteSpec{Choices: []string{"esams", "eqiad"}, Source: rsrc}),
		AppRoutes: apps("api", AppRouteSpec{Mode: Ordered, DCs: []string{"codfw", "eqiad"}, Source: asrc}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.Clusters["text"].Routes["ulsfo"]; r.Source != rsrc {
		t.Fatalf("route source %q", r.Source)
	}
	st := &adminstate.State{Entries: []adminstate.Entry{etcdEntry("esams", true, 41)}}
	tests := []struct {
		site, hop, want string
	}{
		{"ulsfo", "ulsfo", "esams is DOWN (etcd /conftool/v1/sites/esams@41); route from " + rsrc},
		{"ulsfo", "eqiad", "the route_table says direct"}, // the file's entry: no source
		{"codfw", "codfw", "first choice"},
	}
	results := map[string]Result{}
	for _, r := range Resolve(cfg, st) {
		results[r.Site] = r
	}
	for _, tt := range tests {
		var got string
		for _, x := range results[tt.site].Reasons {
			if x.Site == tt.hop {
				got = x.Detail
			}
		}
		if !strings.HasSuffix(got, tt.want) {
			t.Errorf("%s, hop %s: detail %q, want it to end with %q", tt.site, tt.hop, got, tt.want)
		}
		if tt.hop != tt.site || tt.site != "ulsfo" {
			if strings.Contains(got, "route from") {
				t.Errorf("%s, hop %s: a file route claims a source: %q", tt.site, tt.hop, got)
			}
		}
	}
	if a := results["esams"].Apps["api"]; !strings.HasSuffix(a.Detail, "; app route from "+asrc) || a.DC != "codfw" {
		t.Errorf("api: %+v", a)
	}
	if a := results["esams"].Apps["appservers"]; strings.Contains(a.Detail, "from etcd") {
		t.Errorf("appservers (the file's route) claims a source: %+v", a)
	}
}

func TestEtcdSiteWarnings(t *testing.T) {
	st := &adminstate.State{File: "admin_state", Entries: []adminstate.Entry{etcdEntry("cdfw", true, 7), etcdEntry("codfw", true, 8)}}
	ws := AdminStateWarnings(mustParse(t, seeds), st)
	if len(ws) != 1 {
		t.Fatalf("warnings: %v", ws)
	}
	want := "etcd /conftool/v1/sites/cdfw@7: site/cdfw: matches no site of routing.yaml (sites: codfw, eqiad, esams, ulsfo); this object changes nothing for routing"
	if got := ws[0].Error(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
