// Package etcde2e runs the whole fleet against one real etcd: three
// authdns, one lvsd (--dry-run, with instrumentation) and one `trafficctl
// serve`, seeded by `confctl sync` from the default configuration, and
// changed only with the real confctl.
package etcde2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/test/internal/testbin"
)

var binDir string

func TestMain(m *testing.M) { testbin.Main(m, &binDir, "authdns", "lvsd", "trafficctl", "confctl") }

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func configFile(name string) string { return filepath.Join(repoRoot(), "config", name) }

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// result is a finished command.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func runBin(t testing.TB, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, name), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return r
}

// proc is a daemon of the fleet, named in the test's output.
type proc struct {
	*testutil.Daemon
	name string
}

// start is testutil.StartDaemon, with the daemon's log printed when the
// test fails.
func start(t testing.TB, name string, cmd *exec.Cmd, ready func(line string) bool) *proc {
	t.Helper()
	d := testutil.StartDaemon(t, cmd, ready)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", name, d.Logs())
		}
	})
	return &proc{Daemon: d, name: name}
}

func put(t testing.TB, cli *clientv3.Client, key, value string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Put(ctx, key, value)
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return resp.Header.Revision
}

func get(t testing.TB, cli *clientv3.Client, key string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if len(resp.Kvs) == 0 {
		return ""
	}
	return string(resp.Kvs[0].Value)
}
