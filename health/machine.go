package health

import "time"

// machine is gdnsd's anti-flap state of one monitored pair
// (gdnsd_mon_state_updater): the state and the two counters.
type machine struct {
	down       bool
	nOK, nFail int
}

// event feeds one finished check (ok: a success) and returns the TTL after
// it. While DOWN, up successes in a row bring it UP; while UP, down
// failures take it DOWN, and they accumulate over any span of time until
// ok successes in a row clear them.
func (m *machine) event(t *ServiceType, ok bool) uint32 {
	switch {
	case m.down && ok:
		if m.nOK++; m.nOK >= t.UpThresh {
			*m = machine{}
		}
	case m.down:
		m.nOK = 0
	case !ok:
		m.nOK = 0
		if m.nFail++; m.nFail >= t.DownThresh {
			*m = machine{down: true}
		}
	case m.nFail > 0:
		if m.nOK++; m.nOK >= t.OKThresh {
			*m = machine{}
		}
	}
	return m.ttl(t)
}

// ttl is how long the state holds at the least: the interval times the
// checks left before it could change, capped at MaxTTL.
func (m *machine) ttl(t *ServiceType) uint32 {
	left := t.DownThresh - m.nFail
	if m.down {
		left = t.UpThresh - m.nOK
	}
	return capTTL(t.Interval * time.Duration(left))
}

// capTTL renders d in whole seconds, at most MaxTTL.
func capTTL(d time.Duration) uint32 {
	s := int64(d / time.Second)
	if s > MaxTTL {
		return MaxTTL
	}
	return uint32(max(s, 0))
}
