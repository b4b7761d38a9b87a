package ctl

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/conftool"
)

func TestParse(t *testing.T) {
	env := map[string]string{EnvEtcd: "http://127.0.0.1:1,http://127.0.0.1:2", EnvPassword: "pw", EnvRouting: "r.yaml"}
	for _, tc := range []struct {
		args  string // split on spaces
		usage string // "" = valid; else part of the usage error
		check func(Options, Command) string
	}{
		{args: "select name=mw1001 get", check: func(o Options, c Command) string {
			if c.Name != "select" || c.Action != "get" || c.Selector != "name=mw1001" || o.Kind != conftool.Node ||
				strings.Join(o.Etcd.Endpoints, " ") != "http://127.0.0.1:1 http://127.0.0.1:2" || o.Etcd.Password != "pw" ||
				o.Routing != "r.yaml" || o.Prefix != conftool.DefaultPrefix || o.Timeout != 10*time.Second {
				return "defaults"
			}
			return ""
		}},
		{args: "--etcd http://e:1 --object-type site --routing x.yaml --yes select name=esams set/state=down", check: func(o Options, c Command) string {
			if o.Etcd.Endpoints[0] != "http://e:1" || o.Kind != conftool.Site || o.Routing != "x.yaml" || !o.Yes ||
				c.Action != "set" || len(c.Assign) != 1 || c.Assign[0] != (conftool.Assignment{Field: "state", Value: "down"}) {
				return "flags"
			}
			return ""
		}},
		{args: "drain mw1001.*", check: func(_ Options, c Command) string {
			if c.Selector != "name=mw1001.*" || c.Action != "set" || c.Assign[0] != (conftool.Assignment{Field: "weight", Value: "0"}) {
				return "drain"
			}
			return ""
		}},
		{args: "sync --pools p.yaml --prune", check: func(o Options, c Command) string {
			if c.Pools != "p.yaml" || !c.Prune || o.Routing != "r.yaml" {
				return "sync"
			}
			return ""
		}},
		{args: "log -n 5 --json", check: func(_ Options, c Command) string {
			if c.N != 5 || !c.JSON {
				return "log"
			}
			return ""
		}},
		{args: "", usage: "no command"},
		{args: "frobnicate", usage: `unknown command "frobnicate"`},
		{args: "select name=x", usage: "select takes a selector and an action"},
		{args: "select name=x get extra", usage: "select takes a selector and an action"},
		{args: "select name=x put/pooled=no", usage: `unknown action "put/pooled=no"`},
		{args: "select name=x set/pooled", usage: "is not FIELD=VALUE"},
		{args: "--object-type host select name=x get", usage: `unknown object type "host"`},
		{args: "--object-type site pool mw1001", usage: "pool changes nodes"},
		{args: "pool", usage: "pool takes one HOST-REGEX"},
		{args: "sync --routing r.yaml", usage: "sync needs --pools"},
		{args: "log -n -1", usage: "want 0 (all) or more"},
		{args: "--bogus select name=x get", usage: "flag provided but not defined"},
		{args: "select name=x get --yes", usage: "select takes a selector and an action"}, // global flags go first
	} {
		args := strings.Fields(tc.args)
		o, c, err := Parse(args, func(k string) string { return env[k] })
		var ue *UsageError
		switch {
		case tc.usage != "":
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.usage) {
				t.Errorf("%q: error %v, want a usage error with %q", tc.args, err, tc.usage)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.args, err)
		default:
			if what := tc.check(o, c); what != "" {
				t.Errorf("%q: wrong %s: %+v %+v", tc.args, what, o, c)
			}
		}
	}
	for _, h := range []string{"--help", "-h", "help"} {
		if _, _, err := Parse([]string{h}, func(string) string { return "" }); !errors.Is(err, ErrHelp) {
			t.Errorf("%s: %v, want ErrHelp", h, err)
		}
	}
	o, _, _ := Parse([]string{"log"}, func(string) string { return "" })
	if strings.Join(o.Etcd.Endpoints, ",") != DefaultEndpoint {
		t.Errorf("no --etcd and no $%s: %v", EnvEtcd, o.Etcd.Endpoints)
	}
}

func TestQuoteLine(t *testing.T) {
	got := quoteLine([]string{"confctl", "select", "dc=eqiad,name=mw1001.*", "set/pooled=no", "it's"})
	want := `confctl select 'dc=eqiad,name=mw1001.*' set/pooled=no 'it'\''s'`
	if got != want {
		t.Errorf("quoteLine = %s, want %s", got, want)
	}
}
