package testutil

import (
	"io"
	"net"
	"testing"
)

// FreePort returns a port free for both TCP and UDP on every given IP
// (127.0.0.1 when none is given).
func FreePort(t testing.TB, ips ...string) string {
	t.Helper()
	if len(ips) == 0 {
		ips = []string{"127.0.0.1"}
	}
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(l.Addr().String())
		l.Close()
		if freeOn(ips, port) {
			return port
		}
	}
	t.Fatal("no free port")
	return ""
}

// FreeAddr is FreePort on 127.0.0.1, as host:port.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", FreePort(t))
}

// freeOn reports whether port can be bound over TCP and UDP on every IP.
func freeOn(ips []string, port string) bool {
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for _, ip := range ips {
		addr := net.JoinHostPort(ip, port)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		held = append(held, l)
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		held = append(held, pc)
	}
	return true
}
