package dnsserver

// DefaultUDPRcvBuf is the receive buffer authdns asks for each UDP socket:
// 4 MiB (8 MiB as Linux counts it) queues about 10,000 small queries at
// about 800 bytes of kernel memory each, enough to ride out a burst or a
// pause of the reader without drops, where the usual kernel default
// (208 KiB) queues about 250.
const DefaultUDPRcvBuf = 4 << 20

// UDPRcvBuf is the receive buffer of one listen address's UDP sockets.
type UDPRcvBuf struct {
	Listen string // the address bound (port 0 resolved)
	// Bytes is the smallest effective size among the address's sockets,
	// as getsockopt(SO_RCVBUF) reads it: on Linux twice what was granted.
	Bytes int
}

// UDPRcvBufs reports the receive buffer of every listen address.
func (s *Server) UDPRcvBufs() []UDPRcvBuf {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	out := make([]UDPRcvBuf, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, UDPRcvBuf{Listen: g.bound, Bytes: g.rcvBuf()})
	}
	return out
}

func (g *group) rcvBuf() int {
	least := 0
	for i, u := range g.udp {
		if n := u.rcvBuf(); i == 0 || n < least {
			least = n
		}
	}
	return least
}

// logRcvBuf warns when the kernel granted less than asked: without
// CAP_NET_ADMIN the size is capped at net.core.rmem_max.
func (s *Server) logRcvBuf(g *group, want int) {
	got := g.rcvBuf()
	if want > 0 && got < want*rcvBufFactor {
		s.log.Warn("UDP receive buffer smaller than udp_rcvbuf: the kernel caps it at net.core.rmem_max without CAP_NET_ADMIN; raise that sysctl or grant the capability",
			"udp", g.bound, "udp_rcvbuf", want, "effective", got)
	}
}

// resizeKept applies a changed receive buffer size to sockets a reload
// keeps, in place: queued packets stay, nothing is rebound. A socket the
// kernel refuses keeps its size and the error is logged.
func (s *Server) resizeKept(groups []*group, want int) {
	for _, g := range groups {
		for _, u := range g.udp {
			if _, err := u.resize(want); err != nil {
				s.log.Error("UDP receive buffer unchanged", "udp", g.bound, "udp_rcvbuf", want, "err", err)
			}
		}
		s.log.Info("UDP receive buffer resized", "udp", g.bound, "udp_rcvbuf", want, "effective", g.rcvBuf())
		s.logRcvBuf(g, want)
	}
}
