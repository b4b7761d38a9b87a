// Package testnet holds network helpers shared by the unit tests of several
// packages (the e2e tests in test/ have their own in test/internal).
package testnet

import (
	"net"
	"testing"
)

// FreeUDPTCP finds a 127.0.0.1 port free for both TCP and UDP and returns
// it as host:port.
func FreeUDPTCP(t testing.TB) string {
	t.Helper()
	for i := 0; i < 50; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err == nil {
			pc.Close()
			return addr
		}
	}
	t.Fatal("no free port")
	return ""
}
