package coordinator

import (
	"log/slog"
	"sort"
)

// A server removed from the pool (a line gone, a key deleted, pooled =
// inactive) counts against the depool threshold like a depool: it leaves
// IPVS only when it could be depooled, i.e. when the servers up and enabled
// without it are at least total × threshold, the total still counting it
// (PyBal's canDepool, with the server taken as down). Until then it stays
// pooled at its last weight, monitored, reported as removed, and leaves as
// soon as enough others are up. PyBal removed servers at once whatever the
// threshold, so one document listing a few dead servers could empty a
// service. A removed server that is not pooled leaves at once: it is not
// serving anything the threshold could need.

// removeFromPool handles a server missing from a new pool: it returns true
// when the server was forgotten at once, false when it is kept until the
// threshold lets it go (releaseRemoved). c.mu is held.
func (c *Coordinator) removeFromPool(host string) (gone bool) {
	s := c.servers[host]
	if s.Removed {
		return false // already leaving
	}
	delete(c.pooledDown, host) // the removal decides from now on
	if !s.Pooled || !s.Ready {
		c.logf(slog.LevelInfo, "Removing server %s (no longer found in new configuration)", host)
		c.dropServer(host)
		return true
	}
	s.Removed = true
	if c.leaving == nil {
		c.leaving = map[string]bool{}
	}
	c.leaving[host] = true
	return false
}

// releaseRemoved lets removed servers go as far as the threshold allows,
// down ones first (their leaving takes no capacity), and logs those it
// keeps once. The hosts that left are queued for the OnForget callback.
// c.mu is held.
func (c *Coordinator) releaseRemoved() {
	removed := c.removedServers()
	if len(removed) == 0 {
		return
	}
	sort.SliceStable(removed, func(i, j int) bool { return !removed[i].Up && removed[j].Up })
	up := c.upEnabled()
	for _, s := range removed {
		self := countIf(s.Up && s.Enabled)
		switch {
		case thresholdMet(up-self, len(c.servers), c.set.DepoolThreshold):
			c.logf(slog.LevelInfo, "Removing server %s (no longer found in new configuration)", s.Host)
			c.forgetServer(s.Host)
			up -= self
		case !s.keptLogged:
			s.keptLogged = true
			c.logf(slog.LevelWarn, "Keeping removed server %s (%s) pooled: %d other servers up of %d is below the depool threshold %g; "+
				"it leaves once enough others are up", s.Host, s.TextStatus(), up-self, len(c.servers), c.set.DepoolThreshold)
		}
	}
}

// removedServers lists the removed servers still kept, sorted by host,
// dropping from c.leaving those listed again or gone; c.mu is held.
func (c *Coordinator) removedServers() []*Server {
	var out []*Server
	for h := range c.leaving {
		if s := c.servers[h]; s != nil && s.Removed {
			out = append(out, s)
		} else {
			delete(c.leaving, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

// forgetServer drops a server that leaves after the UpdatePool that
// removed it, queued for the OnForget callback. c.mu is held.
func (c *Coordinator) forgetServer(host string) {
	c.dropServer(host)
	c.forgotten = append(c.forgotten, host)
}

// dropServer drops a server and its monitor series; c.mu is held.
func (c *Coordinator) dropServer(host string) {
	delete(c.servers, host)
	delete(c.pooledDown, host)
	if c.metrics != nil {
		c.metrics.monitorStatus.DeletePartialMatch(map[string]string{"service": c.set.Name, "host": host})
	}
}

// upEnabled counts the servers up and enabled; c.mu is held.
func (c *Coordinator) upEnabled() int {
	n := 0
	for _, s := range c.servers {
		n += countIf(s.Up && s.Enabled)
	}
	return n
}

func countIf(b bool) int {
	if b {
		return 1
	}
	return 0
}

// OnForget sets the function told, without the lock held, which hosts
// the coordinator forgot: removed servers it kept for the threshold and
// let go later, after the UpdatePool that removed them returned (the
// service stops their resolution and monitors).
func (c *Coordinator) OnForget(f func(hosts []string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onForget = f
}

// takeForgotten returns the hosts forgotten since the last call and the
// callback to tell; c.mu is held.
func (c *Coordinator) takeForgotten() ([]string, func([]string)) {
	out := c.forgotten
	c.forgotten = nil
	return out, c.onForget
}

// removedKept lists the removed servers still pooled; c.mu is held.
func (c *Coordinator) removedKept() []string {
	out := []string{}
	for _, s := range c.removedServers() {
		out = append(out, s.Host)
	}
	return out
}
