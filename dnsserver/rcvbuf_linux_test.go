//go:build linux

package dnsserver

import (
	"bytes"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func sysctlInt(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/core/" + name)
	if err != nil {
		t.Skipf("net.core.%s: %v", name, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// canForce tells whether this process may pass rmem_max (CAP_NET_ADMIN,
// as root in the tests).
func canForce(t *testing.T) bool {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 1<<16) == nil
}

// The size read back from a real socket: SO_RCVBUFFORCE passes rmem_max,
// the SO_RCVBUF fallback stops at it, Linux doubles what it grants, and 0
// leaves the kernel's default.
func TestSetRcvBuf(t *testing.T) {
	max, def := sysctlInt(t, "rmem_max"), sysctlInt(t, "rmem_default")
	force := canForce(t)
	tests := []struct {
		name      string
		want      int
		force     bool
		effective int
	}{
		{"forced past rmem_max", 2 * max, true, 4 * max},
		{"fallback capped at rmem_max", 2 * max, false, 2 * max},
		{"fallback below rmem_max", 64 << 10, false, 128 << 10},
		{"0 leaves the default", 0, true, def},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.force && tt.want > max && !force {
				t.Skip("no CAP_NET_ADMIN: SO_RCVBUFFORCE is refused")
			}
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			got, err := setRcvBuf(fd, tt.want, tt.force)
			if err != nil {
				t.Fatal(err)
			}
			kernel, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
			if got != tt.effective || kernel != got {
				t.Fatalf("setRcvBuf(%d, force=%v) = %d (socket says %d), want %d", tt.want, tt.force, got, kernel, tt.effective)
			}
		})
	}
}

// The server's sockets get the configured size, report it and log it; a
// Rebind that changes only the size resizes the same sockets in place.
func TestServerUDPRcvBuf(t *testing.T) {
	if !canForce(t) {
		t.Skip("no CAP_NET_ADMIN: the size would depend on rmem_max")
	}
	var logs bytes.Buffer
	s := New(Config{Listen: []string{"127.0.0.1:0"}, UDPSockets: 2, UDPRcvBuf: DefaultUDPRcvBuf},
		testSnapshot(t), slog.New(slog.NewTextHandler(&logs, nil)))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(t.Context()) })
	fdOf := func() int { s.gmu.Lock(); defer s.gmu.Unlock(); return s.groups[0].udp[1].(*rawUDP).fd }
	readBack := func() int {
		n, err := unix.GetsockoptInt(fdOf(), unix.SOL_SOCKET, unix.SO_RCVBUF)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := s.UDPRcvBufs(); len(got) != 1 || got[0].Bytes != 2*DefaultUDPRcvBuf || readBack() != 2*DefaultUDPRcvBuf {
		t.Fatalf("UDPRcvBufs = %+v, socket %d; want %d", got, readBack(), 2*DefaultUDPRcvBuf)
	}
	if !strings.Contains(logs.String(), "udp_rcvbuf=4194304 udp_rcvbuf_effective=8388608") {
		t.Errorf("start log lacks the sizes:\n%s", logs.String())
	}
	fd := fdOf()
	for _, tt := range []struct{ want, effective int }{{1 << 20, 2 << 20}, {0, sysctlInt(t, "rmem_default")}} {
		if err := s.Rebind(Config{Listen: []string{"127.0.0.1:0"}, UDPSockets: 2, UDPRcvBuf: tt.want}); err != nil {
			t.Fatal(err)
		}
		if fdOf() != fd {
			t.Fatal("a size change rebound the sockets")
		}
		if got := s.UDPRcvBufs()[0].Bytes; got != tt.effective || readBack() != tt.effective {
			t.Errorf("after Rebind to %d: %d (socket %d), want %d", tt.want, got, readBack(), tt.effective)
		}
	}
	if _, err := askUDP(s.Addrs()[0].String(), "udp"); err != nil {
		t.Fatalf("after the resize: %v", err)
	}
}

// fakeUDP stands for a socket the kernel gave less than asked.
type fakeUDP struct {
	udpSocket
	n int
}

func (f fakeUDP) rcvBuf() int { return f.n }

func TestLogRcvBufWarnsWhenCapped(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	g := &group{bound: "192.0.2.1:53", udp: []udpSocket{fakeUDP{n: 8 << 20}, fakeUDP{n: 425984}}}
	s.logRcvBuf(g, 4<<20)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "effective=425984") {
		t.Fatalf("no warning naming the smallest size:\n%s", logs.String())
	}
	logs.Reset()
	s.logRcvBuf(&group{udp: []udpSocket{fakeUDP{n: 8 << 20}}}, 4<<20)
	if logs.Len() != 0 {
		t.Fatalf("warned at the full size:\n%s", logs.String())
	}
}
