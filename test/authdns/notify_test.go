package authdnse2e

import (
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Under systemd (Type=notify), authdns says READY=1 once it answers,
// RELOADING=1 then READY=1 around a SIGHUP reload, and STOPPING=1.
func TestNotifiesSystemd(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	s := startServerWith(t, "", "")

	next := func(want string) {
		t.Helper()
		// The deadline only keeps a broken daemon from hanging the test.
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 256)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("notify socket: got %q, %v; want %q\n%s", buf[:n], err, want, s.Logs())
		}
	}
	next("READY=1")
	if r, err := ask(s.addr, "udp", "static.example.org.", dns.TypeA, ""); err != nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("after READY=1: %v %v", r, err)
	}
	s.Signal(syscall.SIGHUP)
	next("RELOADING=1")
	next("READY=1")
	s.Stop()
	next("STOPPING=1")
}
