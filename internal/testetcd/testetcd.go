// Package testetcd runs a real etcd server process (Debian's etcd-server,
// etcd 3.4) for tests: one single-member cluster per Start, on free ports
// of a loopback address of its own (127.X.Y.Z), with its data and log in a
// temporary directory. Tests
// can stop it and start it again on the same ports and data (outages), and
// compact it (watchers that fall behind a compaction).
//
// The Debian package's system service is never used: it may be running on
// 2379/2380, which these servers never take, as their ports are picked free.
package testetcd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

const (
	// readyTimeout bounds the wait for /health after a start. etcd is
	// healthy in well under a second here; 30 s leaves a loaded CI machine
	// room without hiding a server that never comes up.
	readyTimeout = 30 * time.Second
	// pollInterval is the wait between two /health tries.
	pollInterval = 50 * time.Millisecond
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace = 10 * time.Second
	// killWait bounds the wait for the process to be reaped after SIGKILL.
	killWait = 10 * time.Second
	// startAttempts bounds the retries of a first start that lost its
	// free ports to another process between picking and binding them.
	startAttempts = 3
	// logTailLines is how much of etcd's log a failure prints: start-up
	// alone writes about 40 lines, so this covers a start and a stop.
	logTailLines = 150
)

// Etcd is one running (or stopped) single-member etcd.
type Etcd struct {
	bin        string
	dir        string // holds data/ and etcd.log; removed by the caller's cleanup
	host       string // the loopback address of its own, 127.X.Y.Z
	clientPort int
	peerPort   int

	mu   sync.Mutex
	proc *proc // nil while stopped
}

// proc is one etcd process; Restart makes a new one.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd.Wait has returned
	err  error         // cmd.Wait's result, set before done is closed
}

// Start starts etcd for the test and waits until it is healthy; it is
// killed when the test ends, and its log is printed if the test failed.
// A missing etcd binary fails the test: `make test` installs it.
func Start(t testing.TB) *Etcd {
	t.Helper()
	bin, err := findEtcd()
	if err != nil {
		t.Fatal(err)
	}
	e := &Etcd{bin: bin, dir: t.TempDir()}
	// Registered after t.TempDir's own cleanup, so it runs first: the
	// process is gone before its data directory is removed.
	t.Cleanup(func() {
		e.kill()
		if t.Failed() {
			t.Logf("etcd log (%s):\n%s", e.LogPath(), e.logTail())
		}
	})
	if err := e.startFresh(); err != nil {
		t.Fatal(err)
	}
	return e
}

// StartMain is Start for a TestMain, where there is no testing.TB: one
// etcd shared by all the tests of a package. stop kills it and removes its
// directory; call it after m.Run. On error nothing is left running.
func StartMain() (e *Etcd, stop func(), err error) {
	bin, err := findEtcd()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "testetcd-")
	if err != nil {
		return nil, nil, err
	}
	e = &Etcd{bin: bin, dir: dir}
	if err := e.startFresh(); err != nil {
		e.kill()
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return e, func() { e.kill(); os.RemoveAll(dir) }, nil
}

// findEtcd looks etcd up on PATH (Debian installs it as /usr/bin/etcd).
func findEtcd() (string, error) {
	bin, err := exec.LookPath("etcd")
	if err != nil {
		return "", fmt.Errorf("etcd server not installed (%v): `make test` installs it "+
			"(mk/etcd.mk: scripts/apt-install etcd etcd-server); by hand: make deps-etcd", err)
	}
	return bin, nil
}

// Endpoint is the client URL, http://127.X.Y.Z:PORT. It stays the same
// across Stop and Restart.
func (e *Etcd) Endpoint() string {
	return "http://" + net.JoinHostPort(e.host, strconv.Itoa(e.clientPort))
}

// loopbackHost picks an address of 127.0.0.0/8 other than 127.0.0.1 and
// 127.0.1.x. While an etcd is stopped its ports are free, and a test of
// another package running at the same time may start its own etcd on
// them: a daemon under test would then reach that etcd instead of seeing
// an outage. Every etcd on an address of its own rules that out.
func loopbackHost() string {
	return fmt.Sprintf("127.%d.%d.%d", 2+rand.IntN(250), rand.IntN(256), 1+rand.IntN(254))
}

// Endpoints is Endpoint as the list clientv3.Config wants.
func (e *Etcd) Endpoints() []string { return []string{e.Endpoint()} }

// LogPath is the file etcd logs to (every run, appended).
func (e *Etcd) LogPath() string { return filepath.Join(e.dir, "etcd.log") }

func (e *Etcd) dataDir() string { return filepath.Join(e.dir, "data") }

// Stop ends etcd, keeping its data: SIGTERM, then SIGKILL if it has not
// exited within 10 s. Stopping a stopped etcd does nothing.
func (e *Etcd) Stop() {
	e.mu.Lock()
	p := e.proc
	e.proc = nil
	e.mu.Unlock()
	if p != nil {
		p.stop(stopGrace)
	}
}

// kill is the cleanup's Stop: nothing of the data is wanted any more, so
// there is no point in waiting for a clean shutdown.
func (e *Etcd) kill() {
	e.mu.Lock()
	p := e.proc
	e.proc = nil
	e.mu.Unlock()
	if p != nil {
		p.stop(0)
	}
}

// Restart starts a stopped etcd again on the same ports and data and waits
// until it is healthy, so clients made before Stop reach it again. It fails
// the test if etcd is running, or if another process took one of its ports
// while it was stopped.
func (e *Etcd) Restart(t testing.TB) {
	t.Helper()
	if err := e.restart(); err != nil {
		t.Fatal(err)
	}
}

func (e *Etcd) restart() error {
	e.mu.Lock()
	p := e.proc
	if p != nil && p.exited() {
		// It died on its own (the cleanup prints its log); restarting
		// is what the caller wants either way.
		e.proc, p = nil, nil
	}
	e.mu.Unlock()
	if p != nil {
		return errors.New("testetcd: Restart of an etcd that is running (Stop it first)")
	}
	// Checked first so that the failure names the port rather than leaving
	// the reader to find a bind error in etcd's log.
	for _, port := range []struct {
		what string
		n    int
	}{{"client", e.clientPort}, {"peer", e.peerPort}} {
		ln, err := net.Listen("tcp", net.JoinHostPort(e.host, strconv.Itoa(port.n)))
		if err != nil {
			return fmt.Errorf("testetcd: cannot restart etcd: its %s port %s:%d was taken while it was stopped: %v",
				port.what, e.host, port.n, err)
		}
		ln.Close()
	}
	e.logf("=== testetcd: restart on the same ports and data ===\n")
	return e.run()
}

// startFresh picks free ports and starts etcd on an empty data directory.
// The ports are free when picked but not held, so another process may bind
// one before etcd does; that start is retried on new ports.
func (e *Etcd) startFresh() error {
	var err error
	for i := 0; i < startAttempts; i++ {
		e.host = loopbackHost()
		ports, perr := freePorts(e.host, 2)
		if perr != nil {
			return perr
		}
		e.clientPort, e.peerPort = ports[0], ports[1]
		if err = os.RemoveAll(e.dataDir()); err != nil {
			return err
		}
		if err = e.run(); err == nil || !strings.Contains(err.Error(), "address already in use") {
			return err
		}
		e.logf("=== testetcd: port taken before etcd bound it, retrying on new ports ===\n")
	}
	return err
}

// freePorts finds n distinct TCP ports free on host, holding each open
// until all are found so that no two are the same.
func freePorts(host string, n int) ([]int, error) {
	var ports []int
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("testetcd: no free port: %v", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// run starts the etcd process on e's ports and data and waits for health.
// On failure the process is gone and the error holds the log's tail.
func (e *Etcd) run() error {
	client, peer := e.Endpoint(), "http://"+net.JoinHostPort(e.host, strconv.Itoa(e.peerPort))
	const name = "testetcd"
	args := []string{
		"--name", name,
		"--data-dir", e.dataDir(),
		"--listen-client-urls", client,
		"--advertise-client-urls", client,
		"--listen-peer-urls", peer,
		"--initial-advertise-peer-urls", peer,
		"--initial-cluster", name + "=" + peer,
		"--initial-cluster-state", "new",
		"--initial-cluster-token", name,
		// A single member elects itself at once (etcd fast-forwards the
		// initial election ticks), but low values keep a restart as fast.
		// etcd requires election >= 5 * heartbeat. They also lower the
		// minimum lease TTL (1.5 election timeouts) from 1.5 s to 150 ms,
		// so lease tests get the TTL they ask for.
		"--heartbeat-interval", "10",
		"--election-timeout", "100",
		// Compaction only when a test asks for it (Compact), never behind
		// its back. 0 is the default; stated because tests rely on it.
		"--auto-compaction-retention", "0",
		// zap: one JSON line per event. etcd 3.4's default (capnslog)
		// prints a deprecation warning and is gone in 3.5.
		"--logger", "zap",
		"--log-outputs", "stderr",
	}
	lf, err := os.OpenFile(e.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// The child has its own copy of the descriptor once started.
	defer lf.Close()
	cmd := exec.Command(e.bin, args...)
	cmd.Dir = e.dir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = lf, lf
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testetcd: start %s: %v", e.bin, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	if err := waitHealthy(e.Endpoint(), p, readyTimeout); err != nil {
		p.stop(0)
		return fmt.Errorf("testetcd: etcd on %s %v; its log (%s):\n%s", e.Endpoint(), err, e.LogPath(), e.logTail())
	}
	e.mu.Lock()
	e.proc = p
	e.mu.Unlock()
	return nil
}

// childEnv is the test's environment without ETCD_* variables: etcd reads
// ETCD_<FLAG> as a flag and refuses to start when one is also given on the
// command line, so a developer's ETCD_NAME or ETCD_DATA_DIR would break the
// tests. ETCD_UNSUPPORTED_ARCH is kept: it is no flag, only the switch etcd
// 3.4 needs to run at all on some architectures.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ETCD_") && !strings.HasPrefix(kv, "ETCD_UNSUPPORTED_ARCH=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// waitHealthy polls endpoint/health until etcd says it is healthy (it has a
// leader and serves reads), the process exits, or timeout passes.
func waitHealthy(endpoint string, p *proc, timeout time.Duration) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	last := "no answer yet"
	for {
		ok, why := healthy(hc, endpoint)
		if ok {
			return nil
		}
		last = why
		pause := time.NewTimer(pollInterval)
		select {
		case <-p.done:
			pause.Stop()
			return fmt.Errorf("exited before it was healthy (%v)", p.err)
		case <-deadline.C:
			pause.Stop()
			return fmt.Errorf("not healthy within %v (last /health: %s)", timeout, last)
		case <-pause.C:
		}
	}
}

// healthy is one /health request; etcd answers {"health":"true"}.
func healthy(hc *http.Client, endpoint string) (bool, string) {
	resp, err := hc.Get(endpoint + "/health")
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return false, err.Error()
	}
	var h struct {
		Health string `json:"health"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &h) != nil || h.Health != "true" {
		return false, fmt.Sprintf("%s %s", resp.Status, bytes.TrimSpace(body))
	}
	return true, ""
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process: SIGTERM and up to grace for it to exit, then
// SIGKILL (at once when grace is 0).
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	if grace > 0 {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
	_ = p.cmd.Process.Kill()
	// SIGKILL cannot be ignored; the bound is only against a process
	// stuck in the kernel, which the test then leaves behind.
	t := time.NewTimer(killWait)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
	}
}

// logf appends a marker line to etcd's log, between two runs.
func (e *Etcd) logf(format string, args ...any) {
	f, err := os.OpenFile(e.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, format, args...)
}

// logTail is the last logTailLines lines of etcd's log.
func (e *Etcd) logTail() string {
	b, err := os.ReadFile(e.LogPath())
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > logTailLines {
		skipped := len(lines) - logTailLines
		lines = append([]string{fmt.Sprintf("(%d earlier lines left out)\n", skipped)}, lines[skipped:]...)
	}
	return strings.Join(lines, "")
}

// Client is a client of this etcd, closed when the test ends. It reconnects
// within half a second of a Restart: gRPC's default reconnect backoff grows
// to 2 minutes, which would make an outage test wait on the client rather
// than on the server.
func (e *Etcd) Client(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := e.newClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func (e *Etcd) newClient() (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   e.Endpoints(),
		DialTimeout: 5 * time.Second,
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  50 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   500 * time.Millisecond,
			},
			MinConnectTimeout: 2 * time.Second,
		})},
	})
	if err != nil {
		return nil, fmt.Errorf("testetcd: client for %s: %v", e.Endpoint(), err)
	}
	return cli, nil
}

// Compact compacts the key space up to rev and waits until the compaction
// is physical (the old revisions are gone from the backend, not only
// marked), so a read or watch from before rev then fails with
// rpctypes.ErrCompacted.
func (e *Etcd) Compact(t testing.TB, rev int64) {
	t.Helper()
	cli, err := e.newClient()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("testetcd: compact to revision %d: %v", rev, err)
	}
}
