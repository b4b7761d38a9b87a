package coordinator

import (
	"log/slog"
	"sort"
)

// canDepool is PyBal's rule: a down server may leave while the up and
// enabled ones stay at or above the threshold.
func (c *Coordinator) canDepool() bool {
	return thresholdMet(c.upEnabled(), len(c.servers), c.set.DepoolThreshold)
}

// thresholdMet is the rule's arithmetic, PyBal's floats included (100 ×
// 0.07 is 7.000000000000001, so 7 up servers of 100 are not enough).
func thresholdMet(up, total int, threshold float64) bool {
	return float64(up) >= float64(total)*threshold
}

// headroom is how many more up and enabled servers may go down and still
// be depooled, one after the other, by canDepool's rule.
func (c *Coordinator) headroom() int {
	up, n := c.upEnabled(), 0
	for n < up && thresholdMet(up-n-1, len(c.servers), c.set.DepoolThreshold) {
		n++
	}
	return n
}

func (c *Coordinator) depool(s *Server) {
	if s.Removed {
		return // releaseRemoved decides
	}
	if c.canDepool() {
		s.Pooled = false
		delete(c.pooledDown, s.Host)
		return
	}
	c.pooledDown[s.Host] = true
	c.logf(slog.LevelError, "Could not depool server %s because of too many down!", s.Host)
	if c.metrics != nil {
		c.metrics.couldNotDepool.WithLabelValues(c.set.Name).Inc()
	}
}

func (c *Coordinator) repool(s *Server) {
	if s.Removed {
		c.depoolPooledDown()
		return // pooled until releaseRemoved lets it go
	}
	if !s.Pooled {
		s.Pooled = true
	} else {
		c.logf(slog.LevelInfo, "Leaving previously pooled but down server %s pooled", s.Host)
	}
	delete(c.pooledDown, s.Host)
	c.depoolPooledDown()
}

// depoolPooledDown depools servers that could not be depooled before, as
// far as the threshold now allows (sorted for determinism; PyBal pops a
// set).
func (c *Coordinator) depoolPooledDown() {
	for _, h := range sortedKeys(c.pooledDown) {
		if !c.canDepool() {
			break
		}
		d := c.servers[h]
		d.Pooled = false
		delete(c.pooledDown, h)
		if d.Enabled {
			c.logf(slog.LevelInfo, "Depooling previously pooled but down server %s", h)
		} else {
			c.logf(slog.LevelInfo, "Depooling disabled server %s: enough servers are up and enabled again", h)
		}
	}
}

func (c *Coordinator) pooledCount() int {
	n := 0
	for _, s := range c.servers {
		if s.Pooled {
			n++
		}
	}
	return n
}

// ensureDepoolThreshold force-pools resolved servers until pooled ≥ total
// × threshold, tracking them in pooledDown: enabled ones first (up ones
// first; PyBal's rule), then, when those are not enough, disabled ones.
// The latter is lvsd's: PyBal let a pool change disable every server, so
// one bad pool document (or confctl command) could empty a service; here a
// disabled server stays pooled (those pooled before the change first, then
// up ones) while the threshold needs it. Removed servers: removed.go.
func (c *Coordinator) ensureDepoolThreshold(wasPooled map[string]bool) {
	if c.set.DepoolThreshold == 0 {
		return
	}
	// One pass: the pooled count and the candidates (resolved, not
	// pooled). Nothing more when the threshold is met or there is
	// nothing to force, e.g. at each resolution of the initial pooling,
	// where sorting every host would make pooling N hosts quadratic.
	pooled := 0
	var hosts []string
	for h, s := range c.servers {
		if s.Pooled {
			pooled++
		} else if s.Ready && !c.forced(h) {
			hosts = append(hosts, h)
		}
	}
	need := float64(len(c.servers)) * c.set.DepoolThreshold
	if float64(pooled) >= need || len(hosts) == 0 {
		return
	}
	rank := func(s *Server) int {
		r := 0
		if !s.Enabled {
			r += 4
			if !wasPooled[s.Host] {
				r += 2
			}
		}
		if !s.Up {
			r++
		}
		return r
	}
	// Host order, then by rank: as before, restricted to the candidates.
	sort.Slice(hosts, func(i, j int) bool {
		ri, rj := rank(c.servers[hosts[i]]), rank(c.servers[hosts[j]])
		if ri != rj {
			return ri < rj
		}
		return hosts[i] < hosts[j]
	})
	for _, h := range hosts {
		if float64(pooled) >= need {
			return
		}
		s := c.servers[h]
		switch {
		case s.Enabled:
			c.logf(slog.LevelWarn, "Forcing server %s (%s) to be pooled: %d pooled of %d servers is below the depool threshold %g",
				h, s.TextStatus(), pooled, len(c.servers), c.set.DepoolThreshold)
		case wasPooled[h]:
			c.logf(slog.LevelWarn, "Keeping disabled server %s pooled: %d pooled of %d servers would be below the depool threshold %g "+
				"(enable or add servers, or lower the threshold, to let it go)", h, pooled, len(c.servers), c.set.DepoolThreshold)
		default:
			c.logf(slog.LevelWarn, "Forcing disabled server %s (%s) to be pooled: %d pooled of %d servers is below the depool threshold %g",
				h, s.TextStatus(), pooled, len(c.servers), c.set.DepoolThreshold)
		}
		s.Pooled = true
		pooled++
		if !s.Up || !s.Enabled {
			c.pooledDown[h] = true
		}
	}
}

// releaseHeld depools the disabled servers kept for the threshold that it
// no longer needs (down ones first), e.g. once others are enabled again.
func (c *Coordinator) releaseHeld() {
	var held []string
	for _, h := range sortedKeys(c.pooledDown) {
		if !c.servers[h].Enabled {
			held = append(held, h)
		}
	}
	if len(held) == 0 {
		return
	}
	sort.SliceStable(held, func(i, j int) bool { return !c.servers[held[i]].Up && c.servers[held[j]].Up })
	pooled := c.pooledCount()
	need := float64(len(c.servers)) * c.set.DepoolThreshold
	for _, h := range held {
		if float64(pooled-1) < need {
			return
		}
		c.servers[h].Pooled = false
		delete(c.pooledDown, h)
		pooled--
		c.logf(slog.LevelInfo, "Depooling disabled server %s: the depool threshold no longer needs it", h)
	}
}

// downAndHeld splits pooledDown for reporting: the servers that are down
// (PyBal's "marked down but pooled") and the disabled ones.
func (c *Coordinator) downAndHeld() (down, held []string) {
	down, held = []string{}, []string{}
	for _, h := range sortedKeys(c.pooledDown) {
		s := c.servers[h]
		if !s.Up {
			down = append(down, h)
		}
		if !s.Enabled {
			held = append(held, h)
		}
	}
	return down, held
}
