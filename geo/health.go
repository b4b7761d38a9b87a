package geo

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/health"
)

// dcHealth is one resource DC's monitored state, as gdnsd's multifo
// computes it from the states of the DC's addresses.
type dcHealth struct {
	down bool
	ttl  uint32 // min over every monitor of every address; health.MaxTTL when unmonitored
	// lastCheck and lastErr are the newest check and the first failure
	// among those monitors, for States.
	lastCheck time.Time
	lastErr   string
}

// Monitored is a health snapshot applied to one Geo: the per-address
// states are folded into a down bit and a TTL per resource DC once per
// snapshot, so Resolve only indexes arrays.
type Monitored struct {
	g     *Geo
	snap  *health.Snapshot
	admin *adminstate.State // forces ADDR/SERVICE pairs
	res   [][]dcHealth      // [resource][map DC]
}

// ApplyHealth precomputes s for this Geo. An address is up when every
// service type of its resource is up for it; a pair missing from s is
// UP with health.MaxTTL (gdnsd's state before the first check). An
// admin_state entry matching a pair's key (`192.0.2.1/www_http`, globs
// as for every key) replaces its monitored state and TTL (MaxTTL when the
// entry gives none), as gdnsd forces a monitor. s and admin may be nil.
func (g *Geo) ApplyHealth(s *health.Snapshot, admin *adminstate.State) *Monitored {
	m := &Monitored{g: g, snap: s, admin: admin, res: make([][]dcHealth, len(g.resources))}
	for i, r := range g.resources {
		m.res[i] = make([]dcHealth, len(r.m.dcs))
		for j := range r.m.dcs {
			t := &r.targets[j]
			h := dcHealth{ttl: health.MaxTTL}
			switch {
			case !t.defined || len(r.svc) == 0:
			case t.cname != "":
				// Only up and down may apply to a CNAME (the parser
				// refuses checks): down makes it DOWN/MAX, as gdnsd.
				h.down = slices.Contains(r.svc, "down")
			default:
				down4 := m.familyDown(r, t.v4, &h)
				down6 := m.familyDown(r, t.v6, &h)
				h.down = down4 || down6
			}
			m.res[i][j] = h
		}
	}
	return m
}

// familyDown folds one family's monitors into h and reports whether fewer
// than ceil(n × up_thresh) of its n addresses are up (float64 ceil, as
// gdnsd, so 0.14 × 50 needs 8).
func (m *Monitored) familyDown(r *Resource, addrs []netip.Addr, h *dcHealth) bool {
	up := 0
	for _, a := range addrs {
		addrUp := true
		for _, svc := range r.svc {
			st, ok := builtinState(svc)
			if !ok {
				st, _ = m.pair(health.Key{Addr: a, Service: svc})
			}
			if st.TTL < h.ttl {
				h.ttl = st.TTL
			}
			if st.LastCheck.After(h.lastCheck) {
				h.lastCheck = st.LastCheck
			}
			if st.Down {
				addrUp = false
				if h.lastErr == "" && st.LastError != "" {
					h.lastErr = health.Key{Addr: a, Service: svc}.String() + ": " + st.LastError
				}
			}
		}
		if addrUp {
			up++
		}
	}
	return up < int(math.Ceil(float64(len(addrs))*r.upThresh))
}

// pair is k's effective state: forced by an admin_state entry (whose
// index is returned, else -1) or monitored; UP with health.MaxTTL before
// its first check.
func (m *Monitored) pair(k health.Key) (health.State, int) {
	st, ok := m.snap.State(k)
	if !ok {
		st = health.State{TTL: health.MaxTTL}
	}
	i := m.admin.Find(k.String())
	if i >= 0 {
		e := m.admin.Entries[i]
		st.Down, st.TTL = e.Down, health.MaxTTL
		if e.HasTTL {
			st.TTL = e.TTL
		}
	}
	return st, i
}

// builtinState is the fixed state of the built-in type down; ok is false
// for a type the monitor checks.
func builtinState(svc string) (health.State, bool) {
	if svc == "down" {
		return health.State{Down: true, TTL: health.MaxTTL}, true
	}
	return health.State{}, false
}

// HealthKeys lists every (address, service type) pair the resources need
// checked, deduplicated and sorted: each DC's addresses × its resource's
// service types, the built-in up and down left out.
func (g *Geo) HealthKeys() []health.Key {
	seen := map[health.Key]bool{}
	var out []health.Key
	for _, r := range g.resources {
		for _, t := range r.targets {
			if !t.defined {
				continue
			}
			for _, a := range append(slices.Clip(t.v4), t.v6...) {
				for _, svc := range r.svc {
					k := health.Key{Addr: a, Service: svc}
					if _, fixed := builtinState(svc); fixed || seen[k] {
						continue
					}
					seen[k] = true
					out = append(out, k)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b health.Key) int {
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		return strings.Compare(a.Service, b.Service)
	})
	return out
}

// Snapshot is the health snapshot m was built from (nil: none).
func (m *Monitored) Snapshot() *health.Snapshot {
	if m == nil {
		return nil
	}
	return m.snap
}

// at is resource r's DC d, or the all-up state when m is nil or from
// another Geo.
func (m *Monitored) at(r *Resource, d uint8) dcHealth {
	if m == nil || m.g != r.g {
		return dcHealth{ttl: health.MaxTTL}
	}
	return m.res[r.idx][d]
}

// Monitored reports whether the resource has service types to check.
func (r *Resource) Monitored() bool { return len(r.svc) > 0 }

// DCs lists the resource's defined DCs in map order.
func (r *Resource) DCs() []string {
	var out []string
	for i, d := range r.m.dcs {
		if r.targets[i].defined {
			out = append(out, d)
		}
	}
	return out
}
