package testetcd

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func mustGet(t *testing.T, ctx context.Context, cli *clientv3.Client, key string) string {
	t.Helper()
	resp, err := cli.Get(ctx, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("get %s: %d keys, want 1", key, len(resp.Kvs))
	}
	return string(resp.Kvs[0].Value)
}

func TestPutGet(t *testing.T) {
	e := Start(t)
	if !strings.HasPrefix(e.Endpoint(), "http://"+e.host+":") || !strings.HasPrefix(e.host, "127.") || len(e.Endpoints()) != 1 || e.Endpoints()[0] != e.Endpoint() {
		t.Fatalf("endpoints %q / %q", e.Endpoint(), e.Endpoints())
	}
	cli := e.Client(t)
	ctx := ctxFor(t, 10*time.Second)
	if _, err := cli.Put(ctx, "/geotraffic/k", "v1"); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, ctx, cli, "/geotraffic/k"); got != "v1" {
		t.Fatalf("got %q, want v1", got)
	}
}

// TestStopRestart is the outage the stores' tests play: the server goes
// away, a client call fails within its context, and after Restart on the
// same ports and data the same client sees what was written before.
func TestStopRestart(t *testing.T) {
	e := Start(t)
	cli := e.Client(t)
	if _, err := cli.Put(ctxFor(t, 10*time.Second), "/geotraffic/k", "before"); err != nil {
		t.Fatal(err)
	}

	e.Stop()
	const bound = 2 * time.Second
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	_, err := cli.Get(ctx, "/geotraffic/k")
	cancel()
	if err == nil {
		t.Fatal("get from a stopped etcd succeeded")
	}
	// The call ends at its context's deadline at the latest; a second of
	// slack for a loaded machine.
	if took := time.Since(start); took > bound+time.Second {
		t.Fatalf("get from a stopped etcd took %v, context bound %v", took, bound)
	}
	t.Logf("get while stopped: %v", err)
	e.Stop() // stopping twice does nothing

	e.Restart(t)
	if got := mustGet(t, ctxFor(t, 20*time.Second), cli, "/geotraffic/k"); got != "before" {
		t.Fatalf("after restart got %q, want before", got)
	}
}

// TestRestartPortTaken: a port taken while etcd was stopped is named in the
// error; once it is free again Restart works.
func TestRestartPortTaken(t *testing.T) {
	e := Start(t)
	e.Stop()
	ln, err := net.Listen("tcp", net.JoinHostPort(e.host, strconv.Itoa(e.clientPort)))
	if err != nil {
		t.Fatal(err)
	}
	err = e.restart()
	ln.Close()
	if err == nil || !strings.Contains(err.Error(), "client port "+e.host+":"+strconv.Itoa(e.clientPort)+" was taken") {
		t.Fatalf("restart with the client port taken: %v", err)
	}
	e.Restart(t)
	if err := e.restart(); err == nil || !strings.Contains(err.Error(), "running") {
		t.Fatalf("restart of a running etcd: %v", err)
	}
}

// TestCompactedWatch checks what the store's watchers rely on: after a
// compaction, a watch from an older revision gets one response with
// ErrCompacted and the compaction revision, and a watch from that revision
// gets the key's surviving history.
func TestCompactedWatch(t *testing.T) {
	e := Start(t)
	cli := e.Client(t)
	ctx := ctxFor(t, 20*time.Second)
	var revs []int64
	for _, v := range []string{"a", "b", "c"} {
		resp, err := cli.Put(ctx, "/geotraffic/w", v)
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, resp.Header.Revision)
	}
	e.Compact(t, revs[2])

	if _, err := cli.Get(ctx, "/geotraffic/w", clientv3.WithRev(revs[0])); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("get at compacted revision %d: %v, want ErrCompacted", revs[0], err)
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, ok := <-cli.Watch(wctx, "/geotraffic/w", clientv3.WithRev(revs[0]))
	if !ok {
		t.Fatal("watch channel closed without a response")
	}
	if !errors.Is(resp.Err(), rpctypes.ErrCompacted) || resp.CompactRevision != revs[2] {
		t.Fatalf("watch from %d: err %v, compact revision %d; want ErrCompacted, %d",
			revs[0], resp.Err(), resp.CompactRevision, revs[2])
	}

	resp, ok = <-cli.Watch(wctx, "/geotraffic/w", clientv3.WithRev(resp.CompactRevision))
	if !ok || resp.Err() != nil || len(resp.Events) != 1 ||
		string(resp.Events[0].Kv.Value) != "c" || resp.Events[0].Kv.ModRevision != revs[2] {
		t.Fatalf("watch from the compaction revision: ok %v, err %v, events %v", ok, resp.Err(), resp.Events)
	}
}

// TestCleanupEndsEtcd: when the test that started etcd ends, the process is
// gone (reaped) and its port free.
func TestCleanupEndsEtcd(t *testing.T) {
	var e *Etcd
	var pid int
	t.Run("inner", func(t *testing.T) {
		e = Start(t)
		pid = e.proc.cmd.Process.Pid
	})
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("etcd pid %d after its test ended: kill 0: %v, want ESRCH", pid, err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(e.host, strconv.Itoa(e.clientPort)))
	if err != nil {
		t.Fatalf("client port still taken: %v", err)
	}
	ln.Close()
}

func TestStartMain(t *testing.T) {
	e, stop, err := StartMain()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := e.newClient()
	if err != nil {
		stop()
		t.Fatal(err)
	}
	_, err = cli.Put(ctxFor(t, 10*time.Second), "/geotraffic/k", "main")
	cli.Close()
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(e.dir); !os.IsNotExist(err) {
		t.Fatalf("StartMain's directory after stop: %v", err)
	}
}

func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := findEtcd()
	if err == nil || !strings.Contains(err.Error(), "make test") || !strings.Contains(err.Error(), "etcd-server") {
		t.Fatalf("findEtcd without etcd on PATH: %v", err)
	}
	if _, _, err := StartMain(); err == nil {
		t.Fatal("StartMain without etcd on PATH succeeded")
	}
}

// TestEnvIgnored: a developer's ETCD_* variables (which etcd reads as flags,
// refusing to start when they repeat a command-line flag) do not reach it.
func TestEnvIgnored(t *testing.T) {
	t.Setenv("ETCD_NAME", "someone-elses")
	t.Setenv("ETCD_DATA_DIR", "/nonexistent")
	e := Start(t)
	if _, err := e.Client(t).Get(ctxFor(t, 10*time.Second), "x"); err != nil {
		t.Fatal(err)
	}
}

// TestFailedStartReport: an etcd that exits at start is reported with its
// exit status and its log, and a start that lost a port race is retried on
// new ports a bounded number of times. A stand-in etcd plays the failures.
func TestFailedStartReport(t *testing.T) {
	dir := t.TempDir()
	fake := "#!/bin/sh\necho 'listen tcp 127.0.0.1:1: bind: address already in use' >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, "etcd"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	_, _, err := StartMain()
	if err == nil {
		t.Fatal("StartMain with an etcd that exits succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"exited before it was healthy (exit status 3)", "bind: address already in use"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, "retrying on new ports"); n != startAttempts-1 {
		t.Errorf("%d retries in the log, want %d:\n%s", n, startAttempts-1, msg)
	}
}
