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

// stdUDP is a socket of Go's net package; its receive buffer is set
// through SetReadBuffer and cannot be read back portably.
type stdUDP struct {
	*net.UDPConn
	rcvbuf int // as requested
}

func (u *stdUDP) rcvBuf() int { return u.rcvbuf }

func (u *stdUDP) resize(want int) (int, error) {
	if want == 0 {
		return u.rcvbuf, nil // the kernel's default is not known here
	}
	if err := u.SetReadBuffer(want); err != nil {
		return 0, err
	}
	u.rcvbuf = want
	return want, nil
}

func listenUDP(addr string, rcvbuf int) (udpSocket, error) {
	network := "udp4"
	if ap, err := net.ResolveUDPAddr("udp", addr); err == nil && ap.IP.To4() == nil {
		network = "udp6"
	}
	lc := net.ListenConfig{Control: reusePort}
	pc, err := lc.ListenPacket(context.Background(), network, addr)
	if err != nil {
		return nil, err
	}
	u := &stdUDP{UDPConn: pc.(*net.UDPConn)}
	if rcvbuf > 0 {
		if _, err := u.resize(rcvbuf); err != nil {
			u.Close()
			return nil, err
		}
	}
	return u, nil
}

func (s *Server) serveUDP(sock udpSocket, st *Stats) {
	defer s.wg.Done()
	c := sock.(*stdUDP)
	wk := newUDPWorker(st)
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
		resp, ok := s.answerGuarded(wk, s.snap.Load(), buf[:n], from.Addr(), false, out)
		if !ok {
			wk = wk.renewed() // the old one may hold half an answer
			continue
		}
		if resp != nil {
			c.WriteToUDPAddrPort(resp, from)
		}
	}
}

// rcvBufFactor: the size is reported as requested here.
const rcvBufFactor = 1
