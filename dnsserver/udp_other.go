//go:build !linux

package dnsserver

import "net"

func (s *Server) serveUDP(c *net.UDPConn, st *Stats) {
	defer s.wg.Done()
	s.serveUDPPortable(c, st)
}
