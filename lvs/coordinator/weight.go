package coordinator

import "log/slog"

// The depool threshold counts servers, as PyBal does, not weights: a
// weight-0 (drained) server counts as capacity. Weighing the threshold
// would change the arithmetic operators rely on when they set it, so
// instead a service whose pooled servers all have weight 0 — which serves
// no new connection although the threshold holds — is logged and exposed
// (Snapshot.PooledWeight, lvsd_service_pooled_weight) for alerting.

// pooledWeight is the sum of the pooled servers' weights; c.mu is held.
func (c *Coordinator) pooledWeight() uint64 {
	var w uint64
	for _, s := range c.servers {
		if s.Pooled {
			w += uint64(s.Weight)
		}
	}
	return w
}

// NoCapacity reports whether the service has servers but none pooled with
// a weight above 0: IPVS sends it no new connection.
func (c *Coordinator) NoCapacity() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.noCapacity()
}

func (c *Coordinator) noCapacity() bool { return len(c.servers) > 0 && c.pooledWeight() == 0 }

// checkCapacity logs entering and leaving the no-capacity state; c.mu is
// held.
func (c *Coordinator) checkCapacity() {
	none := c.noCapacity()
	if none == c.zeroWeight {
		return
	}
	c.zeroWeight = none
	if none {
		pooled := 0
		for _, s := range c.servers {
			if s.Pooled {
				pooled++
			}
		}
		c.logf(slog.LevelWarn, "No capacity: %d pooled server(s) of %d, total pooled weight 0; new connections cannot be served", pooled, len(c.servers))
		return
	}
	c.logf(slog.LevelInfo, "Capacity restored: total pooled weight %d", c.pooledWeight())
}
