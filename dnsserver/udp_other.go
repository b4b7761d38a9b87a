//go:build !linux

package dnsserver

import (
	"context"
	"errors"
	"net"
)

// Without recvmmsg, UDP goes through Go's net package one packet per
// syscall. Linux (udp_linux.go) is the platform this server is built for.

const udpReadersBlock = false

func listenUDP(addr string) (udpSocket, error) {
	network := "udp4"
	if ap, err := net.ResolveUDPAddr("udp", addr); err == nil && ap.IP.To4() == nil {
		network = "udp6"
	}
	lc := net.ListenConfig{Control: reusePort}
	pc, err := lc.ListenPacket(context.Background(), network, addr)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

func (s *Server) serveUDP(sock udpSocket, st *Stats) {
	defer s.wg.Done()
	c := sock.(*net.UDPConn)
	wk := newWorker(st)
	wk.cache = newAnswerCache()
	buf := make([]byte, 65535)
	out := make([]byte, 0, 65537)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		st.UDP.Add(1)
		if resp := wk.answer(s.snap.Load(), buf[:n], from.Addr(), false, out); resp != nil {
			c.WriteToUDPAddrPort(resp, from)
		}
	}
}
