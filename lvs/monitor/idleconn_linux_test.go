package monitor

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"
)

// sockopts reads the keepalive settings of a TCP connection's socket.
func sockopts(t *testing.T, c net.Conn) (on, idle, intvl, cnt int) {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var errs [4]error
	err = raw.Control(func(fd uintptr) {
		on, errs[0] = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		idle, errs[1] = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
		intvl, errs[2] = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL)
		cnt, errs[3] = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
	}
	return on, idle, intvl, cnt
}

// The held connection carries TCP keepalive with the configured idle time,
// interval and probe count (so a silently dead server is detected), and
// none with keepalive = no.
func TestIdleConnectionKeepAlive(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close() // the options checked are the client socket's
		}
	}()
	tests := []struct {
		kv                   []string
		on, idle, intvl, cnt int
	}{
		{nil, 1, 10, 30, 3}, // PyBal's defaults
		{[]string{"keepalive-idle", "7", "keepalive-interval", "2", "keepalive-retries", "5"}, 1, 7, 2, 5},
		{[]string{"keepalive", "no"}, 0, -1, -1, -1},
	}
	for _, tc := range tests {
		spec, _, err := Parse("IdleConnection", opts(tc.kv...), at)
		if err != nil {
			t.Fatal(err)
		}
		m := spec.New(nil).(*idleMonitor)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := m.dial(ctx, target(l.Addr().String()))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		on, idle, intvl, cnt := sockopts(t, c)
		c.Close()
		if on != tc.on || (tc.on == 1 && (idle != tc.idle || intvl != tc.intvl || cnt != tc.cnt)) {
			t.Errorf("%v: SO_KEEPALIVE %d, idle %d s, interval %d s, count %d; want %d, %d, %d, %d",
				tc.kv, on, idle, intvl, cnt, tc.on, tc.idle, tc.intvl, tc.cnt)
		}
	}
}
