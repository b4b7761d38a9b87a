package geo

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/geotraffic/geotraffic/health"
)

// monitorKey is one of gdnsd's monitors: an (address, service type) pair,
// or a (CNAME, service type) one. Every resource using the pair shares it,
// and admin_state forces it by its key, `192.0.2.1/up` or
// `www.example.net./up` (the CNAME as written).
type monitorKey struct {
	addr  netip.Addr // zero for a CNAME's
	cname string
	svc   string
}

func (k monitorKey) String() string {
	if k.cname != "" {
		return k.cname + "/" + k.svc
	}
	return k.addr.String() + "/" + k.svc
}

// checked reports whether a health check decides k's state: an address
// with a service type other than the built-in up and down.
func (k monitorKey) checked() bool {
	_, fixed := builtinState(k.svc)
	return k.cname == "" && !fixed
}

// builtinState is the fixed state of the built-in types up (UP/MAX) and
// down (DOWN/MAX); ok is false for a type the monitor checks.
func builtinState(svc string) (health.State, bool) {
	switch svc {
	case "up":
		return health.State{TTL: health.MaxTTL}, true
	case "down":
		return health.State{Down: true, TTL: health.MaxTTL}, true
	}
	return health.State{}, false
}

// checks reports whether svcs has a type other than the built-in ones.
func checks(svcs []string) bool {
	return slices.ContainsFunc(svcs, func(s string) bool { _, fixed := builtinState(s); return !fixed })
}

// monitors lists every monitor of g's resources, deduplicated: each
// address × service type of every address plugin resource (dcmap
// addresses are multifo resources), then each CNAME × service type of
// meta resources' DCs and weighted CNAME sets; sorted by address (or
// name), then type.
func (g *Geo) monitors() []monitorKey {
	seen := map[monitorKey]bool{}
	var out []monitorKey
	add := func(k monitorKey) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, r := range g.all {
		for _, f := range []*family{r.v4, r.v6} {
			if f == nil {
				continue
			}
			for _, a := range f.allAddrs() {
				for _, svc := range f.svc {
					add(monitorKey{addr: a, svc: svc})
				}
			}
		}
		for _, t := range r.targets {
			for _, svc := range r.svc {
				if t.cname != "" {
					add(monitorKey{cname: t.cname, svc: svc})
				}
			}
		}
		if f := r.wcnames; f != nil {
			for _, it := range f.items {
				for _, svc := range f.svc {
					add(monitorKey{cname: it.cname, svc: svc})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b monitorKey) int {
		if a.cname != b.cname {
			return strings.Compare(a.cname, b.cname) // addresses ("") first
		}
		if c := a.addr.Compare(b.addr); c != 0 {
			return c
		}
		return strings.Compare(a.svc, b.svc)
	})
	return out
}

// HealthKeys lists every (address, service type) pair the resources need
// checked, deduplicated and sorted: the monitors a health check decides
// (the built-in up and down, and CNAMEs, left out).
func (g *Geo) HealthKeys() []health.Key {
	var out []health.Key
	for _, k := range g.monitors() {
		if k.checked() {
			out = append(out, health.Key{Addr: k.addr, Service: k.svc})
		}
	}
	return out
}

// real is k's monitored state: a built-in type's fixed one, else the
// snapshot's (UP with health.MaxTTL before its first check). CNAMEs have
// only built-in types (the parser refuses checks of them).
func (m *Monitored) real(k monitorKey) health.State {
	if st, ok := builtinState(k.svc); ok {
		return st
	}
	if k.cname == "" {
		if st, ok := m.Snapshot().State(health.Key{Addr: k.addr, Service: k.svc}); ok {
			return st
		}
	}
	return health.State{TTL: health.MaxTTL}
}

// state is k's effective state: its real one, or forced by an admin_state
// entry matching its key (whose index is returned, else -1), which
// replaces the state and the TTL (the entry's /TTL, MAX without one), as
// gdnsd forces a monitor.
func (m *Monitored) state(k monitorKey) (health.State, int) {
	st := m.real(k)
	if m == nil || m.admin.Len() == 0 {
		return st, -1
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

// up reports whether every monitor of item (an address, or a CNAME when
// cname is set) is up, folding each one's TTL, check time and error into
// h.
func (m *Monitored) up(a netip.Addr, cname string, svcs []string, h *dcHealth) bool {
	up := true
	for _, svc := range svcs {
		k := monitorKey{addr: a, cname: cname, svc: svc}
		st, _ := m.state(k)
		h.ttl = min(h.ttl, st.TTL)
		if st.LastCheck.After(h.lastCheck) {
			h.lastCheck = st.LastCheck
		}
		if st.Down {
			up = false
			if h.lastErr == "" && st.LastError != "" {
				h.lastErr = k.String() + ": " + st.LastError
			}
		}
	}
	return up
}
