package testutil

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Daemon is a child process under test whose stderr is kept as its log.
type Daemon struct {
	t    testing.TB
	cmd  *exec.Cmd
	log  SyncBuffer
	done chan struct{}
}

// StartDaemon starts cmd and returns once ready reports true for a line of
// its stderr. ready sees the lines in order, from one goroutine, and is not
// called again once it has returned true, so it may fill in the caller's
// fields (addresses) without locking. A daemon that exits first, or is not
// ready within 30 s, fails the test. It is stopped when the test ends.
func StartDaemon(t testing.TB, cmd *exec.Cmd, ready func(line string) bool) *Daemon {
	t.Helper()
	d := &Daemon{t: t, cmd: cmd, done: make(chan struct{})}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		waiting := true
		for sc.Scan() {
			line := sc.Text()
			d.log.Write([]byte(line + "\n"))
			if waiting && ready(line) {
				waiting = false
				close(up)
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { cmd.Wait(); close(d.done) }()
	select {
	case <-up:
	case <-d.done:
		t.Fatalf("%s exited:\n%s", cmd.Path, d.Logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start:\n%s", cmd.Path, d.Logs())
	}
	return d
}

// Logs is everything the daemon has written to stderr so far.
func (d *Daemon) Logs() string { return d.log.String() }

// Pid is the daemon's process id (for reading /proc).
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Signal sends sig to the daemon.
func (d *Daemon) Signal(sig os.Signal) { d.cmd.Process.Signal(sig) }

// Stop sends SIGTERM and waits, killing the daemon after 10 s.
func (d *Daemon) Stop() {
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
}

// WaitLog waits (up to 20 s) until the log after byte offset from contains
// want, and fails the test otherwise.
func (d *Daemon) WaitLog(from int, want string) {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if l := d.Logs(); len(l) >= from && strings.Contains(l[from:], want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.t.Fatalf("log never said %q:\n%s", want, d.Logs())
}
