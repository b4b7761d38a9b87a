package authdnse2e

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// dialFrom opens a TCP connection to addr from the loopback address local.
func dialFrom(t *testing.T, local, addr string) *dns.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", local, err)
	}
	t.Cleanup(func() { c.Close() })
	return &dns.Conn{Conn: c}
}

// waitClosed waits until the server closes c: a read returns EOF. The
// deadline only stops a failing test.
func waitClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(testutil.WaitBound))
	var b [1]byte
	if n, err := c.Read(b[:]); !errors.Is(err, io.EOF) {
		t.Fatalf("%s: read %d bytes, %v; want EOF (closed by the server)", what, n, err)
	}
}

// askOn sends one query on an open connection and reads its answer.
func askOn(t *testing.T, c *dns.Conn, what string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("static.example.org.", dns.TypeA)
	c.SetDeadline(time.Now().Add(testutil.WaitBound))
	if err := c.WriteMsg(m); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	r, err := c.ReadMsg()
	if err != nil || r.Id != m.Id || len(r.Answer) != 1 {
		t.Fatalf("%s: %v %v", what, r, err)
	}
}

// askFrom sends one query over a new TCP connection from local.
func askFrom(t *testing.T, local, addr, what string) {
	t.Helper()
	c := dialFrom(t, local, addr)
	defer c.Close()
	askOn(t, c, what)
}

// One address over max_tcp_clients_per_ip gets its extra connections
// closed at once, with one log line; another address is served; a reload
// raising the limit applies to the next connection.
func TestTCPPerClientLimit(t *testing.T) {
	metrics := testutil.FreeAddr(t)
	s := startServerWith(t, "max_tcp_clients_per_ip: 4\nmetrics: "+metrics+"\n", "")
	var held []*dns.Conn
	for range 4 {
		held = append(held, dialFrom(t, "127.0.0.1", s.addr))
	}
	waitClosed(t, dialFrom(t, "127.0.0.1", s.addr), "a 5th connection from 127.0.0.1")
	waitClosed(t, dialFrom(t, "127.0.0.1", s.addr), "a 6th connection from 127.0.0.1")
	askFrom(t, "127.0.0.2", s.addr, "TCP from 127.0.0.2")
	for i, c := range held {
		askOn(t, c, "held connection "+strconv.Itoa(i))
	}
	got := scrape(t, metrics)
	for series, want := range map[string]float64{
		`authdns_tcp_connections_rejected_total{reason="max_tcp_clients_per_ip"}`: 2,
		`authdns_tcp_connections_rejected_total{reason="max_tcp_clients"}`:        0,
		`authdns_tcp_connections_max_per_client`:                                  4,
	} {
		if got[series] != want {
			t.Errorf("%s = %v, want %v", series, got[series], want)
		}
	}
	if n := strings.Count(s.Logs(), "at max_tcp_clients_per_ip"); n != 1 {
		t.Errorf("%d log lines for 2 refused connections, want 1 (rate limited):\n%s", n, s.Logs())
	}

	cfg := filepath.Join(s.dir, "authdns.yaml")
	data, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(data), "max_tcp_clients_per_ip: 4", "max_tcp_clients_per_ip: 5", 1)), 0o644)
	mark := len(s.Logs())
	s.Signal(syscall.SIGHUP)
	s.WaitLog(mark, "reload complete")
	askOn(t, dialFrom(t, "127.0.0.1", s.addr), "a 5th connection after raising the limit")
}

// A pool filled with idle clients up to max_tcp_clients closes them
// longest-idle first from 3/4 full on, a new client gets its answer, and
// connections opened under pressure get the short idle timeout while the
// older ones keep theirs.
func TestTCPIdleClosedUnderPressure(t *testing.T) {
	metrics := testutil.FreeAddr(t)
	const max, threshold = 20, 15 // closing starts over 3/4
	s := startServerWith(t, "max_tcp_clients: 20\nmetrics: "+metrics+"\n", "")
	var conns []*dns.Conn
	for i := range max {
		// Distinct sources, so the per-client limit plays no part.
		conns = append(conns, dialFrom(t, "127.0.1."+strconv.Itoa(i+1), s.addr))
	}
	for i := range max - threshold {
		waitClosed(t, conns[i], "idle connection "+strconv.Itoa(i))
	}
	askFrom(t, "127.0.0.2", s.addr, "a new client with the pool full of idle ones")
	waitClosed(t, conns[max-threshold], "the idle connection next in line")
	if got := scrape(t, metrics)[`authdns_tcp_connections_closed_idle_total`]; got != max-threshold+1 {
		t.Errorf("closed under pressure = %v, want %d", got, max-threshold+1)
	}
	// Opened under pressure: closed by the short idle timeout, while the
	// connections opened before it still answer.
	for i := threshold; i < max; i++ {
		waitClosed(t, conns[i], "connection "+strconv.Itoa(i)+" opened under pressure")
	}
	for i := max - threshold + 1; i < threshold; i++ {
		askOn(t, conns[i], "connection "+strconv.Itoa(i)+" opened before the pressure")
	}
}
