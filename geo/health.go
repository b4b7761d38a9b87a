package geo

import (
	"net/netip"
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
// states are folded into each address plugin resource's answer, down bit
// and TTL once per snapshot, so Resolve only indexes arrays.
type Monitored struct {
	g     *Geo
	snap  *health.Snapshot
	admin *adminstate.State // forces ADDR/SERVICE pairs
	res   [][]dcHealth      // [resource][DC]: meta resources' CNAME DCs
	leaf  []leafHealth      // [resource]: address plugins' resources
}

// leafHealth is an address plugin resource's state: DOWN and the TTL of
// both families (gdnsd combines them whatever the query type), and the
// addresses each family answers with.
type leafHealth struct {
	dcHealth
	v4, v6 []netip.Addr
	w      weightedHealth
}

// ApplyHealth precomputes s for this Geo. An address (or CNAME) is up
// when every monitor of it is: one per service type of its resource, the
// built-in up when none is set; a pair missing from s is UP with
// health.MaxTTL (gdnsd's state before the first check). An admin_state
// entry matching a monitor's key (`192.0.2.1/www_http`, `192.0.2.1/up`,
// `www.example.net./up`, globs as for every key) replaces its state and
// TTL (MaxTTL when the entry gives none), as gdnsd forces a monitor, in
// every resource that uses it. s and admin may be nil.
func (g *Geo) ApplyHealth(s *health.Snapshot, admin *adminstate.State) *Monitored {
	m := &Monitored{g: g, snap: s, admin: admin, res: make([][]dcHealth, len(g.all)), leaf: make([]leafHealth, len(g.all))}
	for _, r := range g.all {
		lh := &m.leaf[r.idx]
		lh.ttl = health.MaxTTL
		switch r.kind {
		case kindGeoIP, kindMetafo:
			m.res[r.idx] = make([]dcHealth, len(r.dcs))
			for j := range r.dcs {
				h := dcHealth{ttl: health.MaxTTL}
				if c := r.targets[j].cname; c != "" {
					h.down = !m.up(netip.Addr{}, c, r.svc, &h)
				}
				m.res[r.idx][j] = h
			}
		case kindMultifo:
			lh.v4 = m.multifo(r.v4, lh)
			lh.v6 = m.multifo(r.v6, lh)
		case kindSimplefo:
			lh.v4 = m.simplefo(r.v4, lh)
			lh.v6 = m.simplefo(r.v6, lh)
		case kindWeighted:
			m.weighted(r, lh)
		}
	}
	return m
}

// multifo is gdnsd's multifo for one family: the addresses that are up
// (config order), or all of them and DOWN when fewer than
// ceil(n × up_thresh) are; ignore_health answers all of them anyway.
func (m *Monitored) multifo(f *family, lh *leafHealth) []netip.Addr {
	if f == nil {
		return nil
	}
	up := make([]netip.Addr, 0, len(f.addrs))
	for _, a := range f.addrs {
		if m.up(a, "", f.svc, &lh.dcHealth) {
			up = append(up, a)
		}
	}
	if len(up) < need(len(f.addrs), f.upThresh) {
		lh.down = true
		return f.addrs
	}
	if f.ignoreHealth || len(up) == len(f.addrs) {
		return f.addrs
	}
	return up
}

// simplefo is gdnsd's simplefo for one family (primary, secondary):
// the primary while it is up (its TTL); else the secondary while that is
// up (the smaller TTL); else the primary, DOWN, with the secondary's TTL.
func (m *Monitored) simplefo(f *family, lh *leafHealth) []netip.Addr {
	if f == nil {
		return nil
	}
	p := dcHealth{ttl: health.MaxTTL}
	pUp := m.up(f.addrs[0], "", f.svc, &p)
	lh.note(p)
	if pUp {
		lh.ttl = min(lh.ttl, p.ttl)
		return f.addrs[:1]
	}
	s := dcHealth{ttl: health.MaxTTL}
	sUp := m.up(f.addrs[1], "", f.svc, &s)
	lh.note(s)
	if sUp {
		lh.ttl = min(lh.ttl, p.ttl, s.ttl)
		return f.addrs[1:2]
	}
	lh.ttl = min(lh.ttl, s.ttl)
	lh.down = true
	return f.addrs[:1]
}

// note keeps the newest check and the first failure of h.
func (h *leafHealth) note(o dcHealth) {
	if o.lastCheck.After(h.lastCheck) {
		h.lastCheck = o.lastCheck
	}
	if h.lastErr == "" {
		h.lastErr = o.lastErr
	}
}

// Snapshot is the health snapshot m was built from (nil: none).
func (m *Monitored) Snapshot() *health.Snapshot {
	if m == nil {
		return nil
	}
	return m.snap
}

// at is meta resource r's CNAME DC d, or the all-up state when m is nil
// or from another Geo.
func (m *Monitored) at(r *Resource, d uint8) dcHealth {
	if m == nil || m.g != r.g {
		return dcHealth{ttl: health.MaxTTL}
	}
	return m.res[r.idx][d]
}

// leafAt is address plugin resource r's state; nil when m is nil or from
// another Geo (all up: the configured addresses, TTL MAX).
func (m *Monitored) leafAt(r *Resource) *leafHealth {
	if m == nil || m.g != r.g {
		return nil
	}
	return &m.leaf[r.idx]
}

// Monitored reports whether any address the resource may answer with has
// service types to check (other than the built-in up and down).
func (r *Resource) Monitored() bool {
	for _, f := range []*family{r.v4, r.v6} {
		if f != nil && checks(f.svc) {
			return true
		}
	}
	for _, t := range r.targets {
		if t.ref != nil && t.ref.Monitored() {
			return true
		}
	}
	return false
}

// DCs lists a geoip or metafo resource's defined DCs in order.
func (r *Resource) DCs() []string {
	var out []string
	for i, d := range r.dcs {
		if r.targets[i].defined {
			out = append(out, d)
		}
	}
	return out
}
