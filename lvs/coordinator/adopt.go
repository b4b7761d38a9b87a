package coordinator

import (
	"log/slog"
	"net/netip"
	"strconv"
	"time"
)

// After a restart, lvsd adopts what IPVS has. PyBal's optimistic start
// takes every server as up until its monitors say otherwise, which pools
// backends the previous run had taken out (dead ones) for a whole monitor
// interval. Instead, a server of the first pool keeps the kernel's state
// until its first check completes (every monitor reported once): present
// at weight w stays at w, absent stays absent, weight 0 stays 0. Its state
// for the threshold arithmetic and its monitors' starting verdict follow
// the kernel too: up if present with a weight above 0, else down.

// adoption is a server's kernel state kept until its first check.
type adoption struct {
	present bool
	weight  uint32
	pending map[string]bool // monitors that have not reported yet
}

// Adopt gives the coordinator its service's destinations as the kernel had
// them at start-up (address to weight); the servers of the first pool keep
// that state until their first check. Call it before the first UpdatePool,
// only for a service the kernel already had.
func (c *Coordinator) Adopt(kernel map[netip.Addr]uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.servers) == 0 && len(c.set.Monitors) > 0 {
		c.kernel = kernel
	}
}

// seedAdopted starts a first-pool server, on its first resolution, from
// the kernel's state; c.mu is held.
func (c *Coordinator) seedAdopted(s *Server) {
	if !s.adopting {
		return
	}
	s.adopting = false
	w, present := c.kernel[s.Addr]
	a := &adoption{present: present, weight: w, pending: map[string]bool{}}
	for _, m := range c.set.Monitors {
		a.pending[m] = true
		s.monitors[m] = present && w > 0
	}
	s.adoption, s.Adopted = a, true
	state := "absent"
	if present {
		state = "weight " + strconv.FormatUint(uint64(w), 10)
	}
	c.logf(slog.LevelInfo, "Server %s keeps its IPVS state (%s) until its first check", s.Host, state)
}

// adoptedDest is the destination an adopting server keeps (ok = false when
// it is not adopting); present is false when the kernel has none.
func (c *Coordinator) adoptedDest(s *Server) (w uint32, present, ok bool) {
	if s.adoption == nil {
		return 0, false, false
	}
	return s.adoption.weight, s.adoption.present, true
}

// Checked records that monitor has completed a check of host, with its
// result before damping (reported in Server.Checks): once all its monitors
// have, an adopting server's state decides its IPVS entry from then on.
func (c *Coordinator) Checked(host, monitor string, up bool, reason string) {
	c.mu.Lock()
	s, ok := c.servers[host]
	if ok {
		s.record(monitor, up, reason, time.Now())
	}
	if !ok || s.adoption == nil {
		c.mu.Unlock()
		return
	}
	delete(s.adoption.pending, monitor)
	if len(s.adoption.pending) > 0 {
		c.mu.Unlock()
		return
	}
	c.endAdoption(s)
	c.done()
}

// endAdoption ends a server's adoption; c.mu is held.
func (c *Coordinator) endAdoption(s *Server) {
	s.adoption, s.Adopted = nil, false
	if c.metrics != nil { // a verdict that did not change was never reported
		for m, up := range s.monitors {
			c.metrics.monitorStatus.WithLabelValues(c.set.Name, s.Host, m).Set(b2f(up))
		}
	}
	c.logf(slog.LevelInfo, "Server %s (%s) checked: IPVS follows its state now", s.Host, s.TextStatus())
}

// pruneAdoption forgets monitors no longer configured (a reload) from an
// adopting server's pending set; c.mu is held.
func (c *Coordinator) pruneAdoption(s *Server) {
	if s.adoption == nil {
		return
	}
	for m := range s.adoption.pending {
		if _, ok := s.monitors[m]; !ok {
			delete(s.adoption.pending, m)
		}
	}
	if len(s.adoption.pending) == 0 {
		c.endAdoption(s)
	}
}
