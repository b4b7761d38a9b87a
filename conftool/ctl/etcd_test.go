package ctl

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/internal/testetcd"
)

// The tests below run confctl against a real etcd, one for the package;
// each test keeps to a prefix of its own.
var etcd *testetcd.Etcd

func TestMain(m *testing.M) {
	e, stop, err := testetcd.StartMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	etcd = e
	code := m.Run()
	stop()
	os.Exit(code)
}

// etcdFixture is a prefix of the shared etcd, seeded with keys.
type etcdFixture struct {
	t      *testing.T
	cli    *clientv3.Client
	prefix string
	// wrap, when set, wraps the store each command opens (to add a hook).
	wrap func(Store) Store
}

func newEtcdFixture(t *testing.T, kvs ...string) *etcdFixture {
	f := &etcdFixture{t: t, cli: etcd.Client(t), prefix: "/" + strings.ReplaceAll(t.Name(), "/", "_") + "/v1"}
	// The etcd is shared by the package's tests and outlives a run: with
	// -count, this test's keys of the previous run are still there.
	if _, err := f.cli.Delete(f.ctx(), f.prefix+"/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kvs); i += 2 {
		f.put(kvs[i], kvs[i+1])
	}
	return f
}

func (f *etcdFixture) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	f.t.Cleanup(cancel)
	return ctx
}

// put writes key (relative to the prefix, e.g. "sites/esams").
func (f *etcdFixture) put(key, value string) {
	f.t.Helper()
	if _, err := f.cli.Put(f.ctx(), f.prefix+"/"+key, value); err != nil {
		f.t.Fatal(err)
	}
}

// dump is every object key and value under the prefix, the audit log
// left out, one "key value" a line.
func (f *etcdFixture) dump() string {
	f.t.Helper()
	resp, err := f.cli.Get(f.ctx(), f.prefix+"/", clientv3.WithPrefix())
	if err != nil {
		f.t.Fatal(err)
	}
	var lines []string
	for _, kv := range resp.Kvs {
		if !strings.HasPrefix(string(kv.Key), f.prefix+"/log/") {
			lines = append(lines, strings.TrimPrefix(string(kv.Key), f.prefix+"/")+" "+string(kv.Value))
		}
	}
	return strings.Join(lines, "\n")
}

// run runs confctl with --etcd and --prefix set; stdin "" is no terminal.
func (f *etcdFixture) run(env map[string]string, stdin string, args ...string) runResult {
	f.t.Helper()
	var out, errOut bytes.Buffer
	e := Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv:   func(k string) string { return env[k] },
		Terminal: stdin != "",
		Now:      time.Now,
	}
	if f.wrap != nil {
		e.Open = func(o Options) (Store, func(), error) {
			s, done, err := openEtcd(o)
			if err != nil {
				return nil, nil, err
			}
			return f.wrap(s), done, nil
		}
	}
	full := append([]string{"--etcd", etcd.Endpoint(), "--prefix", f.prefix}, args...)
	code := Main(context.Background(), e, full)
	return runResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

func (f *etcdFixture) mustRun(env map[string]string, args ...string) runResult {
	f.t.Helper()
	r := f.run(env, "", args...)
	if r.code != 0 {
		f.t.Fatalf("confctl %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

const (
	nodeA = "pools/eqiad/appserver/apache2/mw1001.eqiad.wmnet"
	nodeB = "pools/eqiad/appserver/apache2/mw1002.eqiad.wmnet"
)

func seeded(t *testing.T) *etcdFixture {
	return newEtcdFixture(t,
		nodeA, `{"weight": 10, "pooled": "yes"}`,
		nodeB, `{"weight":10,"pooled":"yes"}`,
		"sites/eqiad", `{"state":"up"}`,
		"sites/codfw", `{"state":"up"}`,
		"sites/esams", `{"state":"up"}`,
	)
}

func TestEtcdRoundTrip(t *testing.T) {
	f := seeded(t)
	user := map[string]string{"USER": "alice"}
	r := f.mustRun(user, "select", "dc=eqiad,name=mw.*", "get")
	want := `{"mw1001.eqiad.wmnet": {"weight": 10, "pooled": "yes"}, "tags": "dc=eqiad,cluster=appserver,service=apache2"}
{"mw1002.eqiad.wmnet": {"weight": 10, "pooled": "yes"}, "tags": "dc=eqiad,cluster=appserver,service=apache2"}
`
	if r.stdout != want {
		t.Errorf("get:\n%s\nwant\n%s", r.stdout, want)
	}
	f.mustRun(user, "select", "name=mw1001.*", "set/pooled=no:weight=5")
	r = f.mustRun(user, "select", "name=mw1001.*", "get")
	if want := `{"mw1001.eqiad.wmnet": {"weight": 5, "pooled": "no"}, "tags": "dc=eqiad,cluster=appserver,service=apache2"}` + "\n"; r.stdout != want {
		t.Errorf("get after set: %s", r.stdout)
	}
	r = f.mustRun(user, "select", "name=mw1002.*", "delete")
	if !strings.Contains(r.stderr, "delete "+f.prefix+"/"+nodeB) {
		t.Errorf("delete not logged: %s", r.stderr)
	}
	if r := f.run(user, "", "select", "name=mw1002.*", "get"); r.code != 1 || !strings.Contains(r.stderr, `no node object matches "name=mw1002.*"`) {
		t.Errorf("get of a deleted node: exit %d: %s", r.code, r.stderr)
	}
	r = f.mustRun(user, "--object-type", "site", "select", "", "get")
	if want := `{"codfw": {"state": "up"}, "tags": ""}` + "\n" + `{"eqiad": {"state": "up"}, "tags": ""}` + "\n" + `{"esams": {"state": "up"}, "tags": ""}` + "\n"; r.stdout != want {
		t.Errorf("get sites:\n%s", r.stdout)
	}
}

func TestEtcdRefusals(t *testing.T) {
	f := seeded(t)
	before := f.dump()
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"select", "name=mw.*", "set/pooled=no"}, 1, "changes 2 objects and there is no terminal to confirm on; pass --yes"},
		{[]string{"select", "name=nothing", "set/pooled=no"}, 1, `no node object matches "name=nothing"`},
		{[]string{"select", "name=nothing", "get"}, 1, `no node object matches "name=nothing"`},
		{[]string{"select", "name=mw1001.*", "set/weight=-2"}, 1, f.prefix + "/" + nodeA + `: node field weight: "-2" is not a whole number`},
		{[]string{"--object-type", "site", "select", "name=ulsfo", "set/state=up"}, 1, `site "ulsfo" is not a known site`},
		{[]string{"select", "name=mw.*"}, 2, "select takes a selector and an action"},
	} {
		r := f.run(nil, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("%v: exit %d: %s\nwant exit %d with %q", tc.args, r.code, r.stderr, tc.code, tc.stderr)
		}
	}
	if after := f.dump(); after != before {
		t.Errorf("refused commands wrote:\n%s", after)
	}
}

func TestEtcdGarbageValue(t *testing.T) {
	f := seeded(t)
	f.put(nodeB, `<html>502 Bad Gateway</html>`)
	r := f.mustRun(nil, "select", "name=mw.*", "get")
	if !strings.Contains(r.stdout, `{"mw1002.eqiad.wmnet": "<html>502 Bad Gateway</html>", "tags": "dc=eqiad,cluster=appserver,service=apache2"}`) ||
		!strings.Contains(r.stdout, `{"mw1001.eqiad.wmnet": {"weight": 10, "pooled": "yes"}`) {
		t.Errorf("get:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, f.prefix+"/"+nodeB+": invalid value (shown as stored): not a JSON object") {
		t.Errorf("garbage not reported: %s", r.stderr)
	}
	// Replacing it takes every field.
	if r := f.run(nil, "", "select", "name=mw1002.*", "set/pooled=no"); r.code != 1 || !strings.Contains(r.stderr, "set every field (weight, pooled)") {
		t.Errorf("partial set of garbage: exit %d: %s", r.code, r.stderr)
	}
	f.mustRun(nil, "select", "name=mw1002.*", "set/pooled=no:weight=1")
}

// A store whose Commit runs a hook first: a concurrent writer between
// confctl's read and its write.
type hookStore struct {
	Store
	before func()
}

func (h hookStore) Commit(ctx context.Context, c []etcdstore.Change, g []etcdstore.Guard, r etcdstore.AuditRecord) (int64, error) {
	h.before()
	return h.Store.Commit(ctx, c, g, r)
}

func TestEtcdConflictHook(t *testing.T) {
	f := seeded(t)
	var once sync.Once
	f.wrap = func(s Store) Store {
		return hookStore{Store: s, before: func() { once.Do(func() { f.put(nodeB, `{"weight":3,"pooled":"yes"}`) }) }}
	}
	r := f.run(nil, "", "--yes", "depool", "mw.*")
	if r.code != 1 || !strings.Contains(r.stderr, "concurrent change") || !strings.Contains(r.stderr, "nothing was written") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if d := f.dump(); strings.Contains(d, `"pooled":"no"`) {
		t.Errorf("a conflicting change wrote:\n%s", d)
	}
	f.wrap = nil
	if r := f.mustRun(nil, "log", "-n", "0"); r.stdout != "" {
		t.Errorf("an audit record for a change not made: %s", r.stdout)
	}
}

func TestEtcdConcurrentSets(t *testing.T) {
	// Two confctl read the same revision, then both commit: one wins, the
	// other fails having written nothing.
	f := seeded(t)
	var ready sync.WaitGroup
	ready.Add(2)
	f.wrap = func(s Store) Store {
		return hookStore{Store: s, before: func() { ready.Done(); ready.Wait() }}
	}
	results := make([]runResult, 2)
	var done sync.WaitGroup
	for i, w := range []string{"weight=1", "weight=2"} {
		done.Add(1)
		go func() {
			defer done.Done()
			results[i] = f.run(nil, "", "select", "name=mw1001.*", "set/"+w)
		}()
	}
	done.Wait()
	f.wrap = nil
	codes := fmt.Sprint(results[0].code, results[1].code)
	if codes != "0 1" && codes != "1 0" {
		t.Fatalf("exit codes %s:\n%s\n%s", codes, results[0].stderr, results[1].stderr)
	}
	winner, loser := results[0], results[1]
	want := `"weight":1`
	if winner.code != 0 {
		winner, loser, want = loser, winner, `"weight":2`
	}
	if !strings.Contains(loser.stderr, "concurrent change") || !strings.Contains(f.dump(), want) {
		t.Errorf("loser: %s\nstore:\n%s", loser.stderr, f.dump())
	}
	if r := f.mustRun(nil, "log", "-n", "0"); strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("want the winner's audit record only:\n%s", r.stdout)
	}
}

func TestEtcdAuditLog(t *testing.T) {
	f := seeded(t)
	f.mustRun(map[string]string{"SUDO_USER": "dave", "USER": "root"}, "select", "name=mw1001.*", "set/pooled=no")
	r := f.mustRun(nil, "log")
	want := "dave: confctl --etcd " + etcd.Endpoint() + " --prefix " + f.prefix + " select 'name=mw1001.*' set/pooled=no: " +
		f.prefix + "/" + nodeA + `: {"weight":10,"pooled":"yes"} -> {"weight":10,"pooled":"no"}`
	if !strings.Contains(r.stdout, want) || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("log:\n%s\nwant a line with\n%s", r.stdout, want)
	}
	r = f.mustRun(nil, "log", "--json")
	for _, part := range []string{`"who":"dave"`, `"selector":"name=mw1001.*"`, `"old":{"weight":10,"pooled":"yes"}`, `"new":{"weight":10,"pooled":"no"}`} {
		if !strings.Contains(r.stdout, part) {
			t.Errorf("log --json lacks %s:\n%s", part, r.stdout)
		}
	}
}

func TestEtcdSync(t *testing.T) {
	f := newEtcdFixture(t,
		nodeA, `{"weight":10,"pooled":"yes"}`,
		"pools/eqiad/appserver/apache2/mw1099.eqiad.wmnet", `{"weight":1,"pooled":"no"}`,
		"sites/esams", `{"state":"down"}`,
	)
	r := f.mustRun(nil, "sync", "--pools", poolsYAML, "--routing", routingYAML)
	if !strings.Contains(r.stdout, "sync: 37 created, 0 pruned, 1 stale left") ||
		!strings.Contains(r.stdout, "stale "+f.prefix+"/pools/eqiad/appserver/apache2/mw1099.eqiad.wmnet") {
		t.Errorf("sync:\n%s", r.stdout)
	}
	d := f.dump()
	for _, want := range []string{nodeA + ` {"weight":10,"pooled":"yes"}`, `sites/esams {"state":"down"}`,
		`pools/codfw/appserver/nginx/mw2002.codfw.wmnet {"weight":0,"pooled":"inactive"}`, `routes/upload/drmrs {"route":"esams"}`} {
		if !strings.Contains(d, want) {
			t.Errorf("after sync, no %s:\n%s", want, d)
		}
	}
	r = f.mustRun(nil, "sync", "--pools", poolsYAML, "--routing", routingYAML, "--prune")
	if !strings.Contains(r.stdout, "pruned "+f.prefix+"/pools/eqiad/appserver/apache2/mw1099.eqiad.wmnet") || !strings.Contains(r.stdout, "sync: 0 created, 1 pruned, 0 stale left") {
		t.Errorf("sync --prune:\n%s", r.stdout)
	}
	if strings.Contains(f.dump(), "mw1099") {
		t.Error("the stale node survived --prune")
	}
	// The nodes the end-to-end test changes after a sync.
	f.mustRun(nil, "select", "dc=eqiad,cluster=appserver,service=apache2,name=mw1001.*", "set/pooled=no")
}

func TestEtcdRouting(t *testing.T) {
	env := map[string]string{EnvRouting: routingYAML}
	f := newEtcdFixture(t)
	f.mustRun(nil, "sync", "--pools", poolsYAML, "--routing", routingYAML)
	if r := f.run(nil, "", "--object-type", "site", "select", "name=esams", "set/state=down"); r.code != 2 || !strings.Contains(r.stderr, "pass --routing FILE") {
		t.Errorf("a site down without routing.yaml: exit %d: %s", r.code, r.stderr)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"a loop", []string{"--object-type", "route", "select", "cluster=text,site=codfw", "set/route=ulsfo"}, 1, "loop: "},
		{"no direct site", []string{"--object-type", "route", "select", "cluster=upload,site=eqiad", "set/route=codfw"}, 1, "no site is direct"},
		{"safe: esams down", []string{"--object-type", "site", "select", "name=esams", "set/state=down"}, 0, ""},
		{"safe: codfw down", []string{"--object-type", "site", "select", "name=codfw", "set/state=down"}, 0, ""},
		{"eqiad down too: nothing reaches direct", []string{"--object-type", "site", "select", "name=eqiad", "set/state=down"}, 1, "upload/ulsfo: unreachable (was ok)"},
		{"safe: a route override", []string{"--object-type", "route", "select", "cluster=text,site=ulsfo", "set/route=eqiad"}, 0, ""},
	} {
		before := f.dump()
		r := f.run(env, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("%s: exit %d: %s\nwant exit %d with %q", tc.name, r.code, r.stderr, tc.code, tc.stderr)
		}
		if changed := f.dump() != before; changed != (tc.code == 0) {
			t.Errorf("%s: exit %d, changed %v", tc.name, r.code, changed)
		}
	}
	r := f.mustRun(nil, "--object-type", "site", "select", "name=esams|codfw", "get")
	if r.stdout != `{"codfw": {"state": "down"}, "tags": ""}`+"\n"+`{"esams": {"state": "down"}, "tags": ""}`+"\n" {
		t.Errorf("sites: %s", r.stdout)
	}
}

func TestEtcdRoutingGuard(t *testing.T) {
	// codfw down and eqiad down are each safe alone, not together: a
	// check that read codfw up must not be written after codfw went down.
	// With a codfw backend, appservers can use codfw too, so eqiad alone may go down.
	src, err := os.ReadFile(routingYAML)
	if err != nil {
		t.Fatal(err)
	}
	rp := filepath.Join(t.TempDir(), "routing.yaml")
	src = bytes.Replace(src, []byte("{eqiad: appservers.svc.eqiad.wmnet}"), []byte("{eqiad: appservers.svc.eqiad.wmnet, codfw: appservers.svc.codfw.wmnet}"), 1)
	if err := os.WriteFile(rp, src, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvRouting: rp}
	f := newEtcdFixture(t)
	f.mustRun(nil, "sync", "--pools", poolsYAML, "--routing", rp)
	f.mustRun(env, "--object-type", "app-route", "select", "cluster=text,app=appservers", "set/route=eqiad,codfw")
	var once sync.Once
	f.wrap = func(s Store) Store {
		return hookStore{Store: s, before: func() { once.Do(func() { f.put("sites/codfw", `{"state":"down"}`) }) }}
	}
	r := f.run(env, "", "--object-type", "site", "select", "name=eqiad", "set/state=down")
	if r.code != 1 || !strings.Contains(r.stderr, "concurrent change") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(f.dump(), `sites/eqiad {"state":"up"}`) {
		t.Errorf("eqiad went down with codfw:\n%s", f.dump())
	}
}
