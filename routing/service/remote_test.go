package service

import (
	"strings"
	"testing"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/routing"
)

var layout = conftool.NewLayout("")

// obj builds an object as a watcher or ReadEtcd returns it.
func obj(t *testing.T, key, value string, rev int64) conftool.Object {
	t.Helper()
	k, tags, ok := layout.Parse(key)
	if !ok {
		t.Fatalf("key %s outside the layout", key)
	}
	return conftool.Object{Kind: k, Key: key, Tags: tags, Value: []byte(value), ModRevision: rev}
}

func mustConfig(t *testing.T) *routing.Config {
	t.Helper()
	cfg, err := routing.Parse("routing.yaml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func pathOf(cfg *routing.Config, st *adminstate.State, cluster, site string) string {
	for _, r := range routing.Resolve(cfg, st) {
		if r.Cluster == cluster && r.Site == site {
			return strings.Join(r.Path, " ")
		}
	}
	return ""
}

// The combination: etcd's overrides replace routing.yaml's entries, etcd's
// sites are forced under the admin_state file, and the file wins for the
// same key.
func TestRemoteCombination(t *testing.T) {
	const (
		sites  = "/conftool/v1/sites/"
		routes = "/conftool/v1/routes/text/"
		apps   = "/conftool/v1/app-routes/text/"
	)
	tests := []struct {
		name    string
		objs    [][2]string // key, value
		file    string      // the admin_state file
		ulsfo   string      // text/ulsfo's path
		app     string      // appservers' DC from ulsfo
		errs    []string    // when refused: each in the error
		badKeys []string    // values left out
	}{
		{name: "nothing in etcd", ulsfo: "ulsfo codfw eqiad", app: "eqiad"},
		{name: "site down", objs: [][2]string{{sites + "codfw", `{"state":"down"}`}}, ulsfo: "ulsfo eqiad", app: "eqiad"},
		{name: "site up forces nothing", objs: [][2]string{{sites + "codfw", `{"state":"up"}`}}, ulsfo: "ulsfo codfw eqiad", app: "eqiad"},
		{name: "the file wins for the same key", objs: [][2]string{{sites + "codfw", `{"state":"down"}`}},
			file: "site/codfw => UP\n", ulsfo: "ulsfo codfw eqiad", app: "eqiad"},
		{name: "the file adds to etcd", objs: [][2]string{{sites + "codfw", `{"state":"down"}`}},
			file: "site/eqiad => DOWN\n", ulsfo: "ulsfo", app: ""},
		{name: "route override", objs: [][2]string{{routes + "ulsfo", `{"route":["eqiad"]}`}}, ulsfo: "ulsfo eqiad", app: "eqiad"},
		{name: "app-route override", objs: [][2]string{{apps + "appservers", `{"route":"codfw"}`}}, ulsfo: "ulsfo codfw eqiad", app: "codfw"},
		{name: "override and site together", objs: [][2]string{{routes + "ulsfo", `{"route":["codfw","eqiad"]}`}, {sites + "codfw", `{"state":"down"}`}},
			ulsfo: "ulsfo eqiad", app: "eqiad"},
		{name: "loop", objs: [][2]string{{routes + "codfw", `{"route":"ulsfo"}`}},
			errs: []string{"etcd overrides do not validate with routing.yaml:",
				"etcd /conftool/v1/routes/text/codfw@1: clusters.text.route_table.codfw (override): loop: codfw -> ulsfo -> codfw"}},
		{name: "unknown site", objs: [][2]string{{routes + "ulsfo", `{"route":"drmrs"}`}},
			errs: []string{`etcd /conftool/v1/routes/text/ulsfo@1: clusters.text.route_table.ulsfo (override): unknown site "drmrs"`}},
		{name: "unknown cluster names its keys", objs: [][2]string{{"/conftool/v1/routes/txet/ulsfo", `{"route":"eqiad"}`}, {routes + "ulsfo", `{"route":"eqiad"}`}},
			errs: []string{`etcd /conftool/v1/routes/txet/ulsfo@1: clusters.txet (override): unknown cluster "txet"`}},
		{name: "no direct site names the table's keys", objs: [][2]string{{routes + "eqiad", `{"route":"codfw"}`}, {apps + "appservers", `{"route":"eqiad"}`}},
			errs: []string{"\netcd /conftool/v1/routes/text/eqiad@1: clusters.text.route_table (override): no site is direct"}},
		{name: "unknown app", objs: [][2]string{{apps + "apii", `{"route":"eqiad"}`}},
			errs: []string{`etcd /conftool/v1/app-routes/text/apii@1: clusters.text.apps.apii (override): unknown app "apii"`}},
		{name: "app DC without a backend", objs: [][2]string{{apps + "appservers", `{"route":"ulsfo"}`}},
			errs: []string{`etcd /conftool/v1/app-routes/text/appservers@1: clusters.text.apps.appservers.route (override): DC "ulsfo" has no backend`}},
		{name: "garbage values are left out", objs: [][2]string{{routes + "ulsfo", `{"route":`}, {sites + "codfw", `down`}, {sites + "eqiad", `{"state":"up"}`}},
			ulsfo: "ulsfo codfw eqiad", app: "eqiad", badKeys: []string{routes + "ulsfo", sites + "codfw"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []conftool.Object
			for _, kv := range tt.objs {
				objs = append(objs, obj(t, kv[0], kv[1], 1))
			}
			r, bad := NewRemote(objs, 9)
			if len(bad) != len(tt.badKeys) {
				t.Fatalf("bad values: %v, want %v", bad, tt.badKeys)
			}
			for i, k := range tt.badKeys {
				if !strings.HasPrefix(bad[i].Error(), k+": ") {
					t.Errorf("bad value %d: %v, want it to name %s", i, bad[i], k)
				}
			}
			file, err := adminstate.Parse("admin_state", []byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			base := mustConfig(t)
			cfg, err := r.Config(base)
			if tt.errs != nil {
				if err == nil {
					t.Fatal("refusal expected")
				}
				for _, w := range tt.errs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st := r.State(file)
			if got := pathOf(cfg, st, "text", "ulsfo"); got != tt.ulsfo {
				t.Errorf("ulsfo: %q, want %q", got, tt.ulsfo)
			}
			for _, res := range routing.Resolve(cfg, st) {
				if res.Site == "ulsfo" && res.Apps["appservers"].DC != tt.app {
					t.Errorf("appservers: %+v, want DC %q", res.Apps["appservers"], tt.app)
				}
			}
			if pathOf(base, nil, "text", "ulsfo") != "ulsfo codfw eqiad" {
				t.Error("Config modified routing.yaml's config")
			}
		})
	}
}

func TestRemoteNil(t *testing.T) {
	var r *Remote
	cfg := mustConfig(t)
	if got, err := r.Config(cfg); got != cfg || err != nil {
		t.Fatalf("nil remote: %v %v", got, err)
	}
	file := &adminstate.State{File: "as"}
	if r.State(file) != file || r.Len() != 0 || len(r.Sources()) != 0 {
		t.Fatal("a nil remote must leave the file alone")
	}
}
