package coordinator

import (
	"log/slog"
	"slices"
)

// Reconfigure applies new settings to a running coordinator without
// losing any server's state (enabled, up, pooled, pooled-but-down, monitor
// verdicts), so a reload that changes a service never re-pools a server
// known to be down. Monitors that are no longer configured are forgotten;
// new ones start optimistic (up), as PyBal's monitors do. A raised
// threshold force-pools, a lowered one depools pooled-but-down servers as
// far as it now allows.
func (c *Coordinator) Reconfigure(set Settings) {
	c.mu.Lock()
	set.Name = c.set.Name // metrics and logs are keyed by the name
	c.set = set
	if c.metrics != nil {
		c.metrics.depoolThreshold.WithLabelValues(set.Name).Set(set.DepoolThreshold)
	}
	for _, h := range sortedKeys(c.servers) {
		s := c.servers[h]
		for m := range s.monitors {
			if !slices.Contains(set.Monitors, m) {
				delete(s.monitors, m)
				delete(s.checks, m)
				if c.metrics != nil {
					c.metrics.monitorStatus.DeleteLabelValues(set.Name, h, m)
				}
			}
		}
		for _, m := range set.Monitors {
			if _, ok := s.monitors[m]; !ok {
				s.monitors[m] = true
			}
		}
		c.pruneAdoption(s)
		if !s.Ready {
			continue
		}
		switch up := allUp(s.monitors); {
		case s.Up && !up:
			s.Up = false
			if s.Pooled {
				c.depool(s)
			}
		case !s.Up && up:
			c.logf(slog.LevelInfo, "Server %s (%s) is up", h, s.TextStatus())
			s.Up = true
			if s.Enabled {
				c.repool(s)
			}
		}
	}
	c.ensureDepoolThreshold(nil)
	c.depoolPooledDown()
	c.done()
}

// MonitorVerdict is a monitor's last verdict for a host (false, false when
// unknown), so a restarted monitor can start from it.
func (c *Coordinator) MonitorVerdict(host, monitor string) (up, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, found := c.servers[host]
	if !found {
		return false, false
	}
	up, ok = s.monitors[monitor]
	return up, ok
}
