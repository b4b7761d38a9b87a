package ctl

import (
	"strings"
	"testing"
)

// routingYAML is the default configuration's routing.yaml.
const routingYAML = "../../config/routing.yaml"

const (
	mw1001 = "/conftool/v1/pools/eqiad/appserver/apache2/mw1001.eqiad.wmnet"
	mw1002 = "/conftool/v1/pools/eqiad/appserver/apache2/mw1002.eqiad.wmnet"
)

func fleet() *fakeStore {
	return newFake(
		mw1001, `{"weight": 10, "pooled": "yes"}`,
		mw1002, `{"weight":10,"pooled":"yes"}`,
		"/conftool/v1/sites/eqiad", `{"state":"up"}`,
		"/conftool/v1/sites/codfw", `{"state":"up"}`,
		"/conftool/v1/sites/esams", `{"state":"up"}`,
	)
}

func TestRunSelect(t *testing.T) {
	user := map[string]string{"USER": "alice"}
	for _, tc := range []struct {
		name   string
		stdin  string // "" = no terminal
		args   string
		code   int
		stdout string
		stderr string // a part of it
		store  string // a part of the store after, "" = unchanged
	}{
		{name: "get", args: "select dc=eqiad,name=mw.* get",
			stdout: `{"mw1001.eqiad.wmnet": {"weight": 10, "pooled": "yes"}, "tags": "dc=eqiad,cluster=appserver,service=apache2"}` + "\n" +
				`{"mw1002.eqiad.wmnet": {"weight": 10, "pooled": "yes"}, "tags": "dc=eqiad,cluster=appserver,service=apache2"}` + "\n"},
		{name: "get nothing", args: "select name=mw9.* get", code: 1, stderr: `no node object matches "name=mw9.*"`},
		{name: "set one", args: "select name=mw1001.* set/pooled=no", stderr: "set " + mw1001 + `: {"weight": 10, "pooled": "yes"} -> {"weight":10,"pooled":"no"} who=alice`,
			store: mw1001 + ` {"weight":10,"pooled":"no"}`},
		{name: "set two, no terminal", args: "select name=mw.* set/pooled=no", code: 1, stderr: "changes 2 objects and there is no terminal to confirm on; pass --yes"},
		{name: "set two, answered n", stdin: "n\n", args: "select name=mw.* set/pooled=no", code: 1, stderr: "aborted: nothing was written"},
		{name: "set two, answered y", stdin: "y\n", args: "select name=mw.* set/pooled=no", stderr: "Change these 2 objects? [y/N]",
			store: mw1002 + ` {"weight":10,"pooled":"no"}`},
		{name: "set two, --yes", args: "--yes depool mw.*", store: mw1002 + ` {"weight":10,"pooled":"no"}`},
		{name: "drain keeps pooled", args: "drain mw1001.*", store: mw1001 + ` {"weight":0,"pooled":"yes"}`},
		{name: "set nothing", args: "select name=mw9.* set/pooled=no", code: 1, stderr: "node objects are created by `confctl sync`"},
		{name: "set the same", args: "pool mw1001.*", stderr: "nothing to change"},
		{name: "negative weight", args: "select name=mw1001.* set/weight=-1", code: 1, stderr: mw1001 + `: node field weight: "-1" is not a whole number`},
		{name: "pooled maybe", args: "select name=mw1001.* set/pooled=maybe", code: 1, stderr: mw1001 + `: pooled: "maybe" is not yes, no or inactive`},
		{name: "unknown field", args: "select name=mw1001.* set/colour=red", code: 1, stderr: `node has no field "colour"`},
		{name: "delete", args: "select name=mw1002.* delete", stderr: "delete " + mw1002},
		{name: "bad selector", args: "select host=mw1001 get", code: 2, stderr: `node has no tag "host"`},
		{name: "site known from etcd", args: "--object-type site select name=esams set/state=up", stderr: "nothing to change"},
		{name: "site unknown to etcd", args: "--object-type site select name=ulsfo set/state=up", code: 1,
			stderr: `/conftool/v1/sites/ulsfo: site "ulsfo" is not a known site (known, from the site objects in etcd (pass --routing to check against routing.yaml): codfw, eqiad, esams)`},
		{name: "site down needs routing", args: "--object-type site select name=esams set/state=down", code: 2, stderr: "pass --routing FILE"},
		{name: "route needs routing", args: "--object-type route select cluster=text,site=esams set/route=codfw", code: 2, stderr: "pass --routing FILE"},
		{name: "admin-state created", args: "--object-type admin-state select key=geoip/generic-map/esams set/state=DOWN:ttl=300",
			store: `/conftool/v1/admin-state/geoip/generic-map/esams {"state":"DOWN","ttl":300}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fleet()
			before := s.dump()
			r := run(t, s, user, tc.stdin, strings.Fields(tc.args)...)
			if r.code != tc.code || r.stdout != tc.stdout || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout:\n%s\nstderr with %q", r.code, r.stdout, r.stderr, tc.code, tc.stdout, tc.stderr)
			}
			after := s.dump()
			switch {
			case tc.store == "" && after != before && !strings.HasPrefix(tc.name, "delete"):
				t.Errorf("store changed:\n%s", after)
			case tc.store != "" && !strings.Contains(after, tc.store):
				t.Errorf("store:\n%s\nwant %s", after, tc.store)
			case tc.code != 0 && after != before:
				t.Errorf("refused, yet the store changed:\n%s", after)
			}
		})
	}
}

func TestRunRouting(t *testing.T) {
	env := map[string]string{"USER": "bob", EnvRouting: routingYAML}
	for _, tc := range []struct {
		name   string
		setup  []string // commands run first, each must succeed
		args   string
		code   int
		stderr string
	}{
		{name: "safe site down", args: "--object-type site select name=esams set/state=down"},
		{name: "safe route", args: "--object-type route select cluster=text,site=esams set/route=codfw,eqiad"},
		{name: "loop", args: "--object-type route select cluster=text,site=codfw set/route=ulsfo", code: 1, stderr: "loop: "},
		{name: "no direct site", args: "--object-type route select cluster=text,site=eqiad set/route=codfw", code: 1, stderr: "no site is direct"},
		{name: "unknown hop", args: "--object-type route select cluster=text,site=codfw set/route=nowhere", code: 1,
			stderr: `/conftool/v1/routes/text/codfw: next hop "nowhere" is not a known site`},
		{name: "last DC down", setup: []string{"--object-type site select name=codfw set/state=down"},
			args: "--object-type site select name=eqiad set/state=down", code: 1, stderr: "unreachable"},
		{name: "app loses its DC", args: "--object-type site select name=eqiad set/state=down", code: 1, stderr: "text/codfw: degraded (was ok)"},
		{name: "admin-state site down", setup: []string{"--object-type site select name=codfw set/state=down"},
			args: "--object-type admin-state select key=site/eqiad set/state=DOWN", code: 1, stderr: "unreachable"},
		{name: "forced without terminal", args: "--force --object-type site select name=eqiad set/state=down", code: 1, stderr: "WARNING (--force)"},
		{name: "forced with --yes", args: "--force --yes --object-type site select name=eqiad set/state=down", stderr: "writing it anyway"},
		{name: "forced still refuses a loop", args: "--force --yes --object-type route select cluster=text,site=codfw set/route=ulsfo", code: 1, stderr: "loop: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fleet()
			for _, setup := range tc.setup {
				if r := run(t, s, env, "", strings.Fields(setup)...); r.code != 0 {
					t.Fatalf("%s: exit %d: %s", setup, r.code, r.stderr)
				}
			}
			before := s.dump()
			r := run(t, s, env, "", strings.Fields(tc.args)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d, stderr with %q", r.code, r.stderr, tc.code, tc.stderr)
			}
			if changed := s.dump() != before; changed != (tc.code == 0) {
				t.Errorf("exit %d, store changed: %v", r.code, changed)
			}
		})
	}
}

func TestConflictWritesNothing(t *testing.T) {
	s := fleet()
	s.beforeCommit = func() {
		s.beforeCommit = nil
		s.put(mw1002, `{"weight":1,"pooled":"no"}`) // a concurrent change
	}
	r := run(t, s, nil, "", "--yes", "depool", "mw.*")
	if r.code != 1 || !strings.Contains(r.stderr, "concurrent change") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(s.dump(), `{"weight":10,"pooled":"no"}`) || len(s.log) != 0 {
		t.Errorf("a conflicting change wrote something:\n%s", s.dump())
	}
}

func TestGuardCatchesConcurrentRouting(t *testing.T) {
	// Each change is safe alone; together (codfw and eqiad down) every
	// route breaks. The second check read codfw up; the guard refuses it.
	env := map[string]string{EnvRouting: routingYAML}
	s := fleet()
	s.beforeCommit = func() {
		s.beforeCommit = nil
		s.put("/conftool/v1/sites/codfw", `{"state":"down"}`)
	}
	r := run(t, s, env, "", "--object-type", "site", "select", "name=esams", "set/state=down")
	if r.code != 1 || !strings.Contains(r.stderr, "concurrent change") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

func TestLog(t *testing.T) {
	s := fleet()
	env := map[string]string{"SUDO_USER": "carol", "USER": "root"}
	if r := run(t, s, env, "", "select", "name=mw1001.*", "set/pooled=no"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := run(t, s, env, "", "log")
	want := `2025-03-01T12:00:00Z rev 6 carol: confctl select 'name=mw1001.*' set/pooled=no: ` + mw1001 +
		`: {"weight": 10, "pooled": "yes"} -> {"weight":10,"pooled":"no"}` + "\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("log: exit %d\n%s\nwant\n%s", r.code, r.stdout, want)
	}
	r = run(t, s, env, "", "log", "--json")
	if !strings.Contains(r.stdout, `"who":"carol"`) || !strings.Contains(r.stdout, `"selector":"name=mw1001.*"`) {
		t.Errorf("log --json: %s", r.stdout)
	}
}
