// Package confctle2e runs the real confctl binary against a real etcd:
// sync from the default configuration, a set, and refused commands, with
// their exit codes and messages.
package confctle2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/test/internal/testbin"
)

var confctl string // path of the binary built by TestMain

func TestMain(m *testing.M) {
	var dir string
	testbin.MainThen(m, &dir, func() { confctl = filepath.Join(dir, "confctl") }, "confctl")
}

var (
	pools   = filepath.Join("..", "..", "config", "conftool", "pools.yaml")
	routing = filepath.Join("..", "..", "config", "routing.yaml")
)

// run runs confctl with stdin from /dev/null (no terminal) and env added
// to a clean environment.
func run(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(confctl, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "USER=e2e"}, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running confctl %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

func TestConfctl(t *testing.T) {
	e := testetcd.Start(t)
	env := []string{"CONFCTL_ETCD=" + e.Endpoint()}
	step := func(name string, args []string, wantCode int, wantOut, wantErr string) {
		t.Helper()
		out, errOut, code := run(t, env, args...)
		if code != wantCode || !strings.Contains(out, wantOut) || !strings.Contains(errOut, wantErr) {
			t.Errorf("%s: confctl %s: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q",
				name, strings.Join(args, " "), code, out, errOut, wantCode, wantOut, wantErr)
		}
	}
	step("sync", []string{"sync", "--pools", pools, "--routing", routing}, 0, "sync: 39 created, 0 pruned, 0 stale left", "")
	step("sync again", []string{"sync", "--pools", pools, "--routing", routing}, 0, "sync: 0 created", "")
	step("set", []string{"select", "dc=eqiad,cluster=appserver,service=apache2,name=mw1001.*", "set/pooled=no"}, 0, "",
		`set /conftool/v1/pools/eqiad/appserver/apache2/mw1001.eqiad.wmnet: {"weight":0,"pooled":"inactive"} -> {"weight":0,"pooled":"no"} who=e2e`)
	step("get", []string{"select", "dc=eqiad,cluster=appserver,service=apache2,name=mw1001.*", "get"}, 0,
		`{"mw1001.eqiad.wmnet": {"weight": 0, "pooled": "no"}, "tags": "dc=eqiad,cluster=appserver,service=apache2"}`+"\n", "")
	step("several objects without a terminal", []string{"select", "name=mw100[12].*", "set/pooled=yes"}, 1, "",
		"confctl: refused: this changes 4 objects and there is no terminal to confirm on; pass --yes")
	step("several objects with --yes", []string{"--yes", "pool", "mw100[12].*"}, 0, "", "set /conftool/v1/pools/eqiad/appserver/nginx/mw1002.eqiad.wmnet")
	step("a loop", []string{"--routing", routing, "--object-type", "route", "select", "cluster=text,site=codfw", "set/route=ulsfo"}, 1, "", "loop: ")
	step("a route without routing.yaml", []string{"--object-type", "route", "select", "cluster=text,site=codfw", "set/route=ulsfo"}, 2, "", "pass --routing FILE")
	step("a safe site down", []string{"--routing", routing, "--object-type", "site", "select", "name=esams", "set/state=down"}, 0, "", "set /conftool/v1/sites/esams")
	step("nothing matched", []string{"select", "name=mw9.*", "get"}, 1, "", `confctl: no node object matches "name=mw9.*"`)
	step("a usage error", []string{"select", "name=mw1001.*"}, 2, "", "Run 'confctl --help' for usage.")
	step("help", []string{"--help"}, 0, "Usage: confctl [GLOBAL FLAGS] COMMAND", "")
	step("the log", []string{"log", "-n", "1"}, 0, "e2e: confctl --routing "+routing+" --object-type site select name=esams set/state=down: /conftool/v1/sites/esams: {\"state\":\"up\"} -> {\"state\":\"down\"}", "")
}

func TestEtcdDown(t *testing.T) {
	e := testetcd.Start(t)
	e.Stop()
	start := time.Now()
	_, errOut, code := run(t, nil, "--etcd", e.Endpoint(), "--timeout", "1s", "select", "name=x", "get")
	if code != 1 || !strings.Contains(errOut, "did not answer within --timeout 1s") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("etcd down: exit %d: %s", code, errOut)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("etcd down: took %s with --timeout 1s", d)
	}
}

// TestRBAC: --user with the password from $CONFCTL_PASSWORD, for an etcd
// with authentication on.
func TestRBAC(t *testing.T) {
	e := testetcd.Start(t)
	cli := e.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := cli.UserAdd(ctx, "root", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	args := []string{"--etcd", e.Endpoint(), "--user", "root", "sync", "--pools", pools, "--routing", routing}
	if out, errOut, code := run(t, []string{"CONFCTL_PASSWORD=s3cret"}, args...); code != 0 || !strings.Contains(out, "sync: 39 created") {
		t.Errorf("with the password: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := run(t, []string{"CONFCTL_PASSWORD=wrong"}, args...); code != 1 || !strings.Contains(errOut, "authentication failed") {
		t.Errorf("a wrong password: exit %d: %s", code, errOut)
	}
	if _, errOut, code := run(t, nil, "--etcd", e.Endpoint(), "select", "name=.*", "get"); code != 1 || !strings.Contains(errOut, "user name is empty") {
		t.Errorf("no user: exit %d: %s", code, errOut)
	}
}
