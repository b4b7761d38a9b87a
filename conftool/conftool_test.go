package conftool

import (
	"errors"
	"strings"
	"testing"
)

func TestLayoutRoundTrip(t *testing.T) {
	l := NewLayout("conftool/v1/")
	for _, tc := range []struct {
		kind Kind
		tags []string
		key  string
	}{
		{Node, []string{"eqiad", "appserver", "apache2", "mw1001.eqiad.wmnet"}, "/conftool/v1/pools/eqiad/appserver/apache2/mw1001.eqiad.wmnet"},
		{Site, []string{"esams"}, "/conftool/v1/sites/esams"},
		{AdminState, []string{"geoip/www-res/*"}, "/conftool/v1/admin-state/geoip/www-res/*"},
		{Route, []string{"text", "ulsfo"}, "/conftool/v1/routes/text/ulsfo"},
		{AppRoute, []string{"text", "api"}, "/conftool/v1/app-routes/text/api"},
	} {
		key, err := l.Key(tc.kind, tc.tags...)
		if err != nil || key != tc.key {
			t.Errorf("%s %v: key %q, %v; want %q", tc.kind, tc.tags, key, err, tc.key)
		}
		k, tags, ok := l.Parse(tc.key)
		if !ok || k != tc.kind || strings.Join(tags, "|") != strings.Join(tc.tags, "|") {
			t.Errorf("Parse(%q) = %s %v %v", tc.key, k, tags, ok)
		}
	}
	for _, bad := range []string{"/conftool/v1/log/123", "/conftool/v1/pools/eqiad/appserver", "/conftool/v1/sites/a/b",
		"/conftool/v1/sites/", "/other/sites/esams", "/conftool/v1/admin-state//x"} {
		if k, _, ok := l.Parse(bad); ok {
			t.Errorf("Parse(%q) = %s, want not an object", bad, k)
		}
	}
	if _, err := l.Key(Site, "a/b"); err == nil {
		t.Error("a site name with / accepted")
	}
	if _, err := l.Key(Node, "eqiad"); err == nil {
		t.Error("a node with one tag accepted")
	}
}

func TestParseValues(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		in   string
		err  string // "" = valid
	}{
		{Node, `{"weight": 10, "pooled": "yes"}`, ""},
		{Node, `{"weight": 0, "pooled": "inactive"}`, ""},
		{Node, `{"weight": -1, "pooled": "yes"}`, "weight: -1"},
		{Node, `{"weight": 70000, "pooled": "yes"}`, "weight: 70000"},
		{Node, `{"weight": 1.5, "pooled": "yes"}`, "cannot unmarshal"},
		{Node, `{"weight": 10, "pooled": "maybe"}`, `pooled: "maybe"`},
		{Node, `{"weight": 10}`, `pooled: missing`},
		{Node, `{"weight": 10, "pooled": "yes", "colour": "red"}`, "unknown field"},
		{Node, `{"weight": 10, "pooled": "yes"} {}`, "after top-level value"},
		{Node, `<html>502</html>`, "not a JSON object"},
		{Node, ``, "not a JSON object"},
		{Site, `{"state": "down"}`, ""},
		{Site, `{"state": "DOWN"}`, ""},
		{Site, `{"state": "drained"}`, `state: "drained"`},
		{AdminState, `{"state": "DOWN", "ttl": 300}`, ""},
		{AdminState, `{"state": "down"}`, ""},
		{AdminState, `{"state": "DOWN", "ttl": 300000000}`, "ttl"},
		{Route, `{"route": ["codfw", "eqiad"]}`, ""},
		{Route, `{"route": "direct"}`, ""},
		{Route, `{"routes": "direct"}`, "unknown field"},
		{Route, `{"route": ["codfw", "codfw"]}`, "codfw"},
		{AppRoute, `{"route": {"active-active": ["eqiad", "codfw"]}}`, ""},
		{AppRoute, `{"route": {"active-passive": ["eqiad"]}}`, "active-passive"},
	} {
		err := Validate(tc.kind, []byte(tc.in))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s %s: %v", tc.kind, tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s %s: error %v, want one with %q", tc.kind, tc.in, err, tc.err)
		}
	}
}

func TestSelector(t *testing.T) {
	l := NewLayout("")
	obj := func(k Kind, tags ...string) Object {
		key, err := l.Key(k, tags...)
		if err != nil {
			t.Fatal(err)
		}
		return Object{Kind: k, Key: key, Tags: tags}
	}
	mw := obj(Node, "eqiad", "appserver", "apache2", "mw1001.eqiad.wmnet")
	for _, tc := range []struct {
		kind Kind
		sel  string
		o    Object
		want bool
	}{
		{Node, "dc=eqiad,cluster=appserver,service=apache2,name=mw1001.*", mw, true},
		{Node, "name=mw1001", mw, false}, // anchored, as conftool's
		{Node, "dc=eqiad|codfw", mw, true},
		{Node, "", mw, true},
		{Node, "dc=codfw", mw, false},
		{Site, "name=esams", obj(Site, "esams"), true},
		{Site, "name=esams", mw, false}, // another kind
	} {
		s, err := ParseSelector(tc.kind, tc.sel)
		if err != nil {
			t.Fatalf("%q: %v", tc.sel, err)
		}
		if got := s.Match(tc.o); got != tc.want {
			t.Errorf("%s %q on %s: %v, want %v", tc.kind, tc.sel, tc.o.Key, got, tc.want)
		}
	}
	for _, bad := range []string{"host=mw1001", "dc", "name=(", "name=a)|(b"} {
		if _, err := ParseSelector(Node, bad); err == nil {
			t.Errorf("selector %q accepted", bad)
		}
	}
	if got := mw.TagString(); got != "dc=eqiad,cluster=appserver,service=apache2" {
		t.Errorf("TagString = %q", got)
	}
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		kind   Kind
		old    string
		assign string
		want   string
		err    string
	}{
		{Node, `{"weight":10,"pooled":"yes"}`, "pooled=no", `{"weight":10,"pooled":"no"}`, ""},
		{Node, `{"weight":10,"pooled":"yes"}`, "pooled=yes:weight=5", `{"weight":5,"pooled":"yes"}`, ""},
		{Node, "", "pooled=yes", `{"weight":0,"pooled":"yes"}`, ""},
		{Node, `{"weight":10,"pooled":"yes"}`, "weight=-3", "", "not a whole number"},
		{Node, `{"weight":10,"pooled":"yes"}`, "pooled=perhaps", "", `pooled: "perhaps"`},
		{Node, `{"weight":10,"pooled":"yes"}`, "colour=red", "", `no field "colour"`},
		{Site, `{"state":"up"}`, "state=DOWN", `{"state":"down"}`, ""},
		{AdminState, "", "state=down:ttl=60", `{"state":"DOWN","ttl":60}`, ""},
		{Route, "", "route=codfw,eqiad", `{"route":["codfw","eqiad"]}`, ""},
		{Route, "", `route=["codfw","eqiad"]`, `{"route":["codfw","eqiad"]}`, ""},
		{AppRoute, "", `route={"active-active":["eqiad","codfw"]}`, `{"route":{"active-active":["eqiad","codfw"]}}`, ""},
		{Route, "", "route=direct", `{"route":"direct"}`, ""},
		// A garbage value is replaced when every field is set, else refused.
		{Node, `<html>502</html>`, "weight=5:pooled=no", `{"weight":5,"pooled":"no"}`, ""},
		{Node, `null`, "weight=5:pooled=no", `{"weight":5,"pooled":"no"}`, ""},
		{Node, `<html>502</html>`, "pooled=no", "", "set every field (weight, pooled)"},
		{Node, `null`, "pooled=no", "", "null is not a JSON object"},
	} {
		as, err := ParseAssignments(tc.assign)
		if err != nil {
			t.Fatalf("%q: %v", tc.assign, err)
		}
		var old []byte
		if tc.old != "" {
			old = []byte(tc.old)
		}
		got, err := Apply(tc.kind, old, as)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %q: %s, %v; want error with %q", tc.kind, tc.assign, got, err, tc.err)
			}
		case err != nil || string(got) != tc.want:
			t.Errorf("%s %q: %s, %v; want %s", tc.kind, tc.assign, got, err, tc.want)
		}
	}
}

func TestToAdminState(t *testing.T) {
	l := NewLayout("")
	mk := func(k Kind, name, val string, rev int64) Object {
		key, _ := l.Key(k, name)
		return Object{Kind: k, Key: key, Tags: []string{name}, Value: []byte(val), ModRevision: rev}
	}
	st, bad := ToAdminState([]Object{
		mk(AdminState, "site/esams", `{"state":"UP"}`, 9),
		mk(Site, "esams", `{"state":"down"}`, 5),
		mk(AdminState, "geoip/text-addrs/*", `{"state":"DOWN","ttl":300}`, 6),
		mk(Site, "eqsin", `garbage`, 7),
		mk(AdminState, "geoip/[oops", `{"state":"DOWN"}`, 8),
	}, 10)
	if len(bad) != 2 || !strings.Contains(bad[0].Error(), "/conftool/v1/sites/eqsin") || !strings.Contains(bad[1].Error(), "unterminated") {
		t.Errorf("bad = %v", bad)
	}
	// The admin-state object written after the site object wins.
	if e, ok := st.Lookup("site/esams"); !ok || e.Down || e.Revision != 9 {
		t.Errorf("site/esams: %+v %v", e, ok)
	}
	if e, ok := st.Lookup("geoip/text-addrs/esams"); !ok || !e.Down || e.TTL != 300 || e.Origin("") != "etcd /conftool/v1/admin-state/geoip/text-addrs/*@6" {
		t.Errorf("geoip/text-addrs/esams: %+v %v", e, ok)
	}
}

func TestSelectorExact(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		sel  string
		want string // tags joined by |; "" = not exact
	}{
		{Site, "name=esams", "esams"},
		{Route, "site=ulsfo,cluster=text", "text|ulsfo"},
		{AdminState, `key=geoip/www-res/\*`, "geoip/www-res/*"},
		{AdminState, "key=geoip/generic-map/esams", "geoip/generic-map/esams"},
		{Site, "name=esa.s", ""},
		{Site, "name=(?i)esams", ""},
		{Site, "name=esams|eqiad", ""},
		{Site, "", ""},
		{Route, "cluster=text", ""},              // a tag left out
		{Route, "cluster=text,cluster=text", ""}, // a tag twice, the other missing
		{Node, "dc=eqiad,cluster=a,service=b,name=mw1001", "eqiad|a|b|mw1001"},
	} {
		s, err := ParseSelector(tc.kind, tc.sel)
		if err != nil {
			t.Fatalf("%q: %v", tc.sel, err)
		}
		tags, ok := s.Exact()
		if got := strings.Join(tags, "|"); ok != (tc.want != "") || got != tc.want {
			t.Errorf("%s %q: Exact = %q %v, want %q", tc.kind, tc.sel, got, ok, tc.want)
		}
	}
}

// A problem with a value reads `key: field: reason`, the etcd key named
// once, whichever parser found it.
func TestValueErrorsNameKeyAndField(t *testing.T) {
	l := NewLayout("")
	mk := func(k Kind, name, val string) Object {
		key, _ := l.Key(k, name)
		return Object{Kind: k, Key: key, Tags: []string{name}, Value: []byte(val)}
	}
	for _, tc := range []struct {
		o    Object
		want string
	}{
		{mk(Site, "eqsin", `{"state":"drained"}`), `/conftool/v1/sites/eqsin: state: "drained" is not up or down`},
		{mk(Site, "eqsin", `{}`), `/conftool/v1/sites/eqsin: state: missing`},
		{mk(AdminState, "x", `{"state":"DOWN","ttl":"1"}`), `/conftool/v1/admin-state/x: ttl: cannot unmarshal string into uint32`},
		{mk(AdminState, "x", `{"state":"DOWN","colour":1}`), `/conftool/v1/admin-state/x: colour: unknown field (expected state, ttl)`},
		{mk(AdminState, "geoip/[oops", `{"state":"DOWN"}`), `/conftool/v1/admin-state/geoip/[oops: key "geoip/[oops": `},
	} {
		_, _, err := AdminEntry(tc.o)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Count(err.Error(), tc.o.Key) != 1 {
			t.Errorf("%s %s: %v, want prefix %q", tc.o.Key, tc.o.Value, err, tc.want)
		}
	}
	if err := AtKey("/k", errors.New("plain")); err.Error() != "/k: plain" {
		t.Errorf("AtKey of a plain error: %v", err)
	}
}
