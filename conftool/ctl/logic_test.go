package ctl

import (
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/conftool"
)

var layout = conftool.NewLayout("")

func obj(t *testing.T, k conftool.Kind, value string, tags ...string) conftool.Object {
	t.Helper()
	key, err := layout.Key(k, tags...)
	if err != nil {
		t.Fatal(err)
	}
	return conftool.Object{Kind: k, Key: key, Tags: tags, Value: []byte(value), ModRevision: 1}
}

func TestGetLine(t *testing.T) {
	for _, tc := range []struct {
		o    conftool.Object
		want string
		bad  string // "" = valid
	}{
		{obj(t, conftool.Node, `{"pooled":"yes","weight":10}`, "eqiad", "appserver", "apache2", "mw1001.eqiad.wmnet"),
			`{"mw1001.eqiad.wmnet": {"weight": 10, "pooled": "yes"}, "tags": "dc=eqiad,cluster=appserver,service=apache2"}`, ""},
		{obj(t, conftool.Site, `{"state":"DOWN"}`, "esams"), `{"esams": {"state": "down"}, "tags": ""}`, ""},
		{obj(t, conftool.AdminState, `{"state":"DOWN","ttl":300}`, "geoip/generic-map/esams"),
			`{"geoip/generic-map/esams": {"state": "DOWN", "ttl": 300}, "tags": ""}`, ""},
		{obj(t, conftool.Route, `{"route":["codfw","eqiad"]}`, "text", "ulsfo"), `{"ulsfo": {"route": ["codfw", "eqiad"]}, "tags": "cluster=text"}`, ""},
		{obj(t, conftool.AppRoute, `{"route":{"active-active":["eqiad","codfw"]}}`, "text", "restbase"),
			`{"restbase": {"route": {"active-active": ["eqiad", "codfw"]}}, "tags": "cluster=text"}`, ""},
		// Garbage shows as it is stored: a string when it is not JSON...
		{obj(t, conftool.Node, `<html>502 "bad gateway"</html>`, "eqiad", "appserver", "apache2", "mw1002"),
			`{"mw1002": "<html>502 \"bad gateway\"</html>", "tags": "dc=eqiad,cluster=appserver,service=apache2"}`, "not a JSON object"},
		// ...and as JSON, field order kept, when it is JSON but invalid.
		{obj(t, conftool.Node, `{"weight":-1,"pooled":"yes","x":[true,null,1.5]}`, "eqiad", "appserver", "apache2", "mw1003"),
			`{"mw1003": {"weight": -1, "pooled": "yes", "x": [true, null, 1.5]}, "tags": "dc=eqiad,cluster=appserver,service=apache2"}`, "unknown field"},
	} {
		got, bad := GetLine(tc.o)
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.o.Key, got, tc.want)
		}
		if (bad == nil) != (tc.bad == "") || (bad != nil && !strings.Contains(bad.Error(), tc.bad)) {
			t.Errorf("%s: bad = %v, want %q", tc.o.Key, bad, tc.bad)
		}
	}
}

func TestPlanSet(t *testing.T) {
	existing := []conftool.Object{
		obj(t, conftool.Node, `{"weight":10,"pooled":"yes"}`, "eqiad", "appserver", "apache2", "mw1001"),
		obj(t, conftool.Node, `{"weight":10,"pooled":"no"}`, "eqiad", "appserver", "nginx", "mw1001"),
		obj(t, conftool.Node, `garbage`, "eqiad", "appserver", "apache2", "mw1002"),
		obj(t, conftool.Site, `{"state":"up"}`, "esams"),
	}
	for _, tc := range []struct {
		kind   conftool.Kind
		sel    string
		assign string
		want   string // "verb key -> new" per change, "; "-joined
		err    string
	}{
		{conftool.Node, "name=mw1001", "pooled=no", "set /conftool/v1/pools/eqiad/appserver/apache2/mw1001 -> {\"weight\":10,\"pooled\":\"no\"}", ""},
		{conftool.Node, "name=mw1001,service=apache2", "pooled=yes", "", ""}, // already so: nothing written
		{conftool.Node, "name=mw1002", "pooled=no", "", "/conftool/v1/pools/eqiad/appserver/apache2/mw1002: current value does not parse"},
		{conftool.Node, "name=mw1002", "pooled=no:weight=1", "set /conftool/v1/pools/eqiad/appserver/apache2/mw1002 -> {\"weight\":1,\"pooled\":\"no\"}", ""},
		{conftool.Node, "name=mw1001", "weight=-1", "", `"-1" is not a whole number`},
		{conftool.Node, "name=mw1001", "colour=red", "", `no field "colour"`},
		{conftool.Node, "dc=eqiad,cluster=appserver,service=apache2,name=mw1009", "pooled=yes", "", "node objects are created by `confctl sync`"},
		{conftool.Site, "name=esams", "state=down", "set /conftool/v1/sites/esams -> {\"state\":\"down\"}", ""},
		{conftool.Site, "name=eqsin", "state=down", "create /conftool/v1/sites/eqsin -> {\"state\":\"down\"}", ""},
		{conftool.Site, "name=eq.*", "state=down", "", "set creates one only when the selector gives every tag (name) exactly"},
		{conftool.AdminState, `key=geoip/www-res/\*`, "state=DOWN:ttl=60", "create /conftool/v1/admin-state/geoip/www-res/* -> {\"state\":\"DOWN\",\"ttl\":60}", ""},
		{conftool.Route, "cluster=text,site=esams", "route=codfw,eqiad", "create /conftool/v1/routes/text/esams -> {\"route\":[\"codfw\",\"eqiad\"]}", ""},
		{conftool.Route, "cluster=text", "route=direct", "", "set creates one only when the selector gives every tag (cluster, site) exactly"},
		{conftool.Route, "cluster=text,site=a\\/b", "route=direct", "", `cannot create from "cluster=text,site=a\\/b": route: site "a/b" contains /`},
	} {
		sel, err := conftool.ParseSelector(tc.kind, tc.sel)
		if err != nil {
			t.Fatal(err)
		}
		as, err := conftool.ParseAssignments(tc.assign)
		if err != nil {
			t.Fatal(err)
		}
		var objs []conftool.Object
		for _, o := range existing {
			if o.Kind == tc.kind {
				objs = append(objs, o)
			}
		}
		changes, err := planSet(layout, objs, sel, as)
		var got []string
		for _, c := range changes {
			got = append(got, c.verb()+" "+c.Key+" -> "+string(c.New))
		}
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %q %s: %v, %v; want error with %q", tc.kind, tc.sel, tc.assign, got, err, tc.err)
			}
		case err != nil || strings.Join(got, "; ") != tc.want:
			t.Errorf("%s %q %s:\n got %v, %v\nwant %s", tc.kind, tc.sel, tc.assign, got, err, tc.want)
		}
	}
}

func TestConfirm(t *testing.T) {
	two := []change{{Key: "a", New: []byte("1")}, {Key: "b", New: []byte("2")}}
	for _, tc := range []struct {
		name     string
		yes      bool
		changes  []change
		forced   bool
		terminal bool
		input    string
		err      string // "" = go ahead
	}{
		{name: "one object", changes: two[:1]},
		{name: "two with --yes", yes: true, changes: two},
		{name: "two, no terminal", changes: two, err: "pass --yes"},
		{name: "two, answered y", changes: two, terminal: true, input: "y\n"},
		{name: "two, answered YES", changes: two, terminal: true, input: " YES \n"},
		{name: "two, answered n", changes: two, terminal: true, input: "n\n", err: "aborted"},
		{name: "two, just enter", changes: two, terminal: true, input: "\n", err: "aborted"},
		{name: "two, end of input", changes: two, terminal: true, input: "", err: "aborted"},
		{name: "one forced, no terminal", changes: two[:1], forced: true, err: "pass --yes"},
		{name: "one forced with --yes", yes: true, changes: two[:1], forced: true},
	} {
		var stderr strings.Builder
		env := Env{Stdin: strings.NewReader(tc.input), Stderr: &stderr, Terminal: tc.terminal}
		err := confirm(env, Options{Yes: tc.yes}, tc.changes, tc.forced)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
		if tc.terminal && !strings.Contains(stderr.String(), "[y/N]") {
			t.Errorf("%s: no question asked: %q", tc.name, stderr.String())
		}
	}
}

func TestValidate(t *testing.T) {
	fromYAML := sitesFromNames([]string{"eqiad", "codfw", "esams"}, "sites: of routing.yaml")
	fromEtcd := sitesFromObjects([]conftool.Object{obj(t, conftool.Site, `{"state":"up"}`, "eqiad")})
	none := sitesFromObjects(nil)
	mk := func(k conftool.Kind, value string, tags ...string) change {
		o := obj(t, k, value, tags...)
		return change{Kind: k, Key: o.Key, Tags: o.Tags, New: []byte(value)}
	}
	for _, tc := range []struct {
		name string
		c    change
		ks   knownSites
		err  string
	}{
		{"node at a known dc", mk(conftool.Node, `{"weight":1,"pooled":"yes"}`, "eqiad", "a", "b", "h"), fromYAML, ""},
		{"node at an unknown dc", mk(conftool.Node, `{"weight":1,"pooled":"yes"}`, "eqiadd", "a", "b", "h"), fromYAML, `/conftool/v1/pools/eqiadd/a/b/h: dc "eqiadd" is not a known site (known, from sites: of routing.yaml: codfw, eqiad, esams)`},
		{"dc known from etcd", mk(conftool.Node, `{"weight":1,"pooled":"yes"}`, "eqiad", "a", "b", "h"), fromEtcd, ""},
		{"dc unknown to etcd", mk(conftool.Node, `{"weight":1,"pooled":"yes"}`, "codfw", "a", "b", "h"), fromEtcd, "pass --routing to check against routing.yaml"},
		{"nothing to check against", mk(conftool.Node, `{"weight":1,"pooled":"yes"}`, "anywhere", "a", "b", "h"), none, ""},
		{"pooled maybe", mk(conftool.Node, `{"weight":1,"pooled":"maybe"}`, "eqiad", "a", "b", "h"), fromYAML, `pooled: "maybe"`},
		{"unknown site object", mk(conftool.Site, `{"state":"down"}`, "ulsfo"), fromYAML, `site "ulsfo" is not a known site`},
		{"admin-state for a site", mk(conftool.AdminState, `{"state":"DOWN"}`, "site/ulsfo"), fromYAML, `site "ulsfo" is not a known site`},
		{"admin-state glob", mk(conftool.AdminState, `{"state":"DOWN"}`, "geoip/*/ulsfo"), fromYAML, ""},
		{"admin-state bad glob", mk(conftool.AdminState, `{"state":"DOWN"}`, "geoip/[x"), fromYAML, "unterminated"},
		{"route to an unknown hop", mk(conftool.Route, `{"route":["codfw","nowhere"]}`, "text", "esams"), fromYAML, `next hop "nowhere" is not a known site`},
		{"route of an unknown site", mk(conftool.Route, `{"route":"eqiad"}`, "text", "nowhere"), fromYAML, `site "nowhere" is not a known site`},
		{"route of a bad shape", mk(conftool.Route, `{"route":{"eqiad":1}}`, "text", "esams"), fromYAML, "/conftool/v1/routes/text/esams: "},
		{"app-route to an unknown DC", mk(conftool.AppRoute, `{"route":{"active-active":["eqiad","nowhere"]}}`, "text", "api"), fromYAML, `DC "nowhere" is not a known site`},
		{"deletion of anything", change{Kind: conftool.Node, Key: "/conftool/v1/pools/x/a/b/h", Tags: []string{"x", "a", "b", "h"}}, fromYAML, ""},
	} {
		err := validate([]change{tc.c}, tc.ks)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestNeedsRouting(t *testing.T) {
	site := func(old, new string) change {
		c := change{Kind: conftool.Site, Key: "/conftool/v1/sites/esams", Tags: []string{"esams"}, New: []byte(new)}
		if old != "" {
			c.Old = &conftool.Object{Kind: conftool.Site, Key: c.Key, Tags: c.Tags, Value: []byte(old)}
		}
		return c
	}
	admin := func(key, new string) change {
		return change{Kind: conftool.AdminState, Key: "/conftool/v1/admin-state/" + key, Tags: []string{key}, New: []byte(new)}
	}
	for _, tc := range []struct {
		name           string
		c              change
		needs, touches bool
	}{
		{"site goes down", site(`{"state":"up"}`, `{"state":"down"}`), true, true},
		{"new site down", site("", `{"state":"down"}`), true, true},
		{"site stays down", site(`{"state":"down"}`, `{"state":"DOWN"}`), false, true},
		{"site comes up", site(`{"state":"down"}`, `{"state":"up"}`), false, true},
		{"admin site/ down", admin("site/esams", `{"state":"DOWN"}`), true, true},
		{"admin * down", admin("*", `{"state":"DOWN"}`), true, true},
		{"admin s?te/x down", admin("s?te/x", `{"state":"DOWN"}`), true, true},
		{"admin geoip down", admin("geoip/generic-map/esams", `{"state":"DOWN"}`), false, false},
		{"route", change{Kind: conftool.Route, Tags: []string{"text", "esams"}, New: []byte(`{"route":"eqiad"}`)}, true, true},
		{"node", change{Kind: conftool.Node, Tags: []string{"a", "b", "c", "d"}, New: []byte(`{"weight":0,"pooled":"no"}`)}, false, false},
	} {
		if got := needsRouting([]change{tc.c}); got != tc.needs {
			t.Errorf("%s: needsRouting = %v", tc.name, got)
		}
		if got := touchesRouting([]change{tc.c}); got != tc.touches {
			t.Errorf("%s: touchesRouting = %v", tc.name, got)
		}
	}
}

func TestApplyChanges(t *testing.T) {
	a := obj(t, conftool.Site, `{"state":"up"}`, "a")
	b := obj(t, conftool.Site, `{"state":"up"}`, "b")
	changes := []change{
		{Kind: conftool.Site, Key: a.Key, Tags: a.Tags, Old: &a},                                  // deleted
		{Kind: conftool.Site, Key: b.Key, Tags: b.Tags, Old: &b, New: []byte(`{"state":"down"}`)}, // changed
		{Kind: conftool.Site, Key: "/conftool/v1/sites/c", Tags: []string{"c"}, New: []byte(`{"state":"down"}`)},
	}
	got := applyChanges([]conftool.Object{a, b}, changes)
	var s []string
	for _, o := range got {
		s = append(s, o.Name()+"="+string(o.Value))
	}
	if strings.Join(s, " ") != `b={"state":"down"} c={"state":"down"}` {
		t.Errorf("applyChanges: %v", s)
	}
}

func TestMayNameSite(t *testing.T) {
	for p, want := range map[string]bool{"site/x": true, "site/*": true, "s*": true, "*": true, "[s]ite/x": true,
		"geoip/x/y": false, "geoip/*": false, "sites": false, "site": false} {
		if got := mayNameSite(p); got != want {
			t.Errorf("mayNameSite(%q) = %v", p, got)
		}
	}
	if _, ok := siteOfAdminKey("site/*"); ok {
		t.Error("site/* taken for one site")
	}
}
