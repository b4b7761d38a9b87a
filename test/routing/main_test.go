// Package routinge2e runs the real trafficctl binary: the CLI commands on
// files, and `trafficctl serve` on a loopback port while admin_state and
// routing.yaml are edited under it.
package routinge2e

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/test/internal/testbin"
)

var trafficctl string // path of the binary built by TestMain

func TestMain(m *testing.M) {
	var dir string
	testbin.MainThen(m, &dir, func() { trafficctl = filepath.Join(dir, "trafficctl") }, "trafficctl")
}

// exampleConfig is the committed example, which the docs also use.
func exampleConfig(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "config", "routing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run runs trafficctl to completion.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(trafficctl, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running trafficctl %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

func writeInPlace(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// server is a running `trafficctl serve`.
type server struct {
	url string
	mu  sync.Mutex
	log bytes.Buffer
}

func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

var addrRE = regexp.MustCompile(`msg="trafficctl: serving routes" addr=(127\.0\.0\.1:\d+)`)

// serve starts `trafficctl serve` on a free loopback port and stops it
// (SIGTERM, then the wait) when the test ends. The safety-net poll is off
// (--poll 0), so every change a test waits for proves that file events
// alone re-resolve the routes.
func serve(t testing.TB, args ...string) *server {
	t.Helper()
	cmd := exec.Command(trafficctl, append([]string{"serve", "--listen", "127.0.0.1:0", "--poll", "0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{}
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() { // drain stderr for the whole run so the child never blocks
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		cmd.Wait()
	})
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-done:
		t.Fatalf("trafficctl serve exited:\n%s", s.logText())
	case <-time.After(20 * time.Second):
		t.Fatalf("trafficctl serve did not start:\n%s", s.logText())
	}
	return s
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}
