package routinge2e

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// trafficctl serve closes an idle keep-alive connection (here after
// --idle-timeout 100ms) instead of holding it, and its goroutine, forever.
// The bound is only there so a regression fails instead of hanging.
func TestServeClosesIdleConnection(t *testing.T) {
	dir := t.TempDir()
	rp := filepath.Join(dir, "routing.yaml")
	testutil.WriteAtomic(t, rp, exampleConfig(t))
	s := serve(t, "--routing", rp, "--admin-state", filepath.Join(dir, "admin_state"), "--idle-timeout", "100ms")
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /status HTTP/1.1\r\nHost: trafficctl\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("status %d, close %v: want a kept-alive 200", resp.StatusCode, resp.Close)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("idle keep-alive connection: read %v, want EOF (closed by the server)", err)
	}
}

// --idle-timeout must bound idle connections.
func TestServeRefusesNoIdleTimeout(t *testing.T) {
	rp, as := files(t, "")
	_, stderr, code := run(t, "serve", "--routing", rp, "--admin-state", as, "--listen", "127.0.0.1:0", "--idle-timeout", "0")
	if code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, stderr)
	}
	contains(t, "stderr", stderr, "--idle-timeout must be above 0")
}
