package daemon

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
	"github.com/prometheus/client_golang/prometheus"
)

// The instrumentation API closes an idle keep-alive connection (here after
// 50 ms) instead of holding it, and its goroutine, forever. The bound is
// only there so a regression fails instead of hanging.
func TestInstrumentationClosesIdleConnection(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "pybal.conf")
	testutil.WriteAtomic(t, conf, "[global]\n\n[a]\nprotocol = tcp\nip = 10.2.2.1\nport = 80\nscheduler = wrr\nconfig = file://"+dir+"/a\n")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runDaemon(t, Options{ConfigPath: conf, Director: &fakeDirector{}, Registry: prometheus.NewRegistry(),
		InstrumentationListeners: []net.Listener{l}, HTTPTimeouts: instrumentation.Timeouts{Idle: 50 * time.Millisecond}})

	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /alerts HTTP/1.1\r\nHost: lvsd\r\n\r\n"); err != nil {
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
