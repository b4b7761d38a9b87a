package geo

import (
	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

// forced is one precomputed admin_state decision.
type forced struct {
	set, down, hasTTL bool
	ttl               uint32
}

func fromEntry(e adminstate.Entry, ok bool) forced {
	if !ok {
		return forced{}
	}
	return forced{set: true, down: e.Down, hasTTL: e.HasTTL, ttl: e.TTL}
}

// Forced is an admin_state applied to one Geo: glob matching is done once
// per admin_state (or Geo) change so Resolve only indexes arrays.
type Forced struct {
	g    *Geo
	res  [][]forced        // [resource][map DC]: resource > map > site
	maps [][]forced        // [map][DC]: map > site
	site map[string]forced // site/DC
}

// ApplyAdmin precomputes st for this Geo. Precedence: geoip/RESOURCE/DC over
// geoip/MAP/DC over site/DC (the DC is down everywhere); for one key the
// last matching line wins (adminstate.State.Lookup). st may be nil.
func (g *Geo) ApplyAdmin(st *adminstate.State) *Forced {
	f := &Forced{g: g, site: map[string]forced{}}
	look := func(key string) forced {
		return fromEntry(st.Lookup(key))
	}
	for _, d := range g.sites {
		f.site[d] = look("site/" + d)
	}
	f.maps = make([][]forced, len(g.maps))
	for i, m := range g.maps {
		f.maps[i] = make([]forced, len(m.dcs))
		for j, d := range m.dcs {
			e := look("geoip/" + m.name + "/" + d)
			if !e.set {
				e = f.site[d]
			}
			f.maps[i][j] = e
		}
	}
	mapIdx := map[*gmap]int{}
	for i, m := range g.maps {
		mapIdx[m] = i
	}
	f.res = make([][]forced, len(g.resources))
	for i, r := range g.resources {
		f.res[i] = make([]forced, len(r.m.dcs))
		for j, d := range r.m.dcs {
			if !r.targets[j].defined {
				continue
			}
			e := look("geoip/" + r.name + "/" + d)
			if !e.set {
				e = f.maps[mapIdx[r.m]][j]
			}
			f.res[i][j] = e
		}
	}
	return f
}

// StateInfo is one line of `authdns states`: State is the effective state
// with "!" when forced (e.g. "DOWN!"), RealState the health-derived one.
type StateInfo struct {
	State     string `json:"state"`
	RealState string `json:"real_state"`
	ForcedTTL uint32 `json:"forced_ttl,omitempty"`
}

// States reports every geoip/MAP/DC, geoip/RESOURCE/DC and site/DC. A
// resource DC's real state is its health; a map's or site's real state is
// DOWN only when every resource DC under it is down. Forced states shown are
// the key's own for sites, map > site for maps and the effective one
// (resource > map > site) for resources.
func (g *Geo) States(f *Forced, h Health) map[string]StateInfo {
	if f == nil || f.g != g {
		f = g.ApplyAdmin(nil)
	}
	type agg struct{ n, down int }
	mapReal := map[string]*agg{}
	siteReal := map[string]*agg{}
	out := map[string]StateInfo{}
	for i, r := range g.resources {
		for j, d := range r.m.dcs {
			if !r.targets[j].defined {
				continue
			}
			down := h != nil && h.Down(r.name, d)
			for _, a := range []struct {
				m   map[string]*agg
				key string
			}{{mapReal, r.m.name + "/" + d}, {siteReal, d}} {
				x := a.m[a.key]
				if x == nil {
					x = &agg{}
					a.m[a.key] = x
				}
				x.n++
				if down {
					x.down++
				}
			}
			out["geoip/"+r.name+"/"+d] = stateInfo(f.res[i][j], down)
		}
	}
	for i, m := range g.maps {
		for j, d := range m.dcs {
			a := mapReal[m.name+"/"+d]
			out["geoip/"+m.name+"/"+d] = stateInfo(f.maps[i][j], a != nil && a.down == a.n)
		}
	}
	for _, d := range g.sites {
		a := siteReal[d]
		out["site/"+d] = stateInfo(f.site[d], a != nil && a.down == a.n)
	}
	return out
}

func stateInfo(e forced, realDown bool) StateInfo {
	s := StateInfo{RealState: "UP"}
	if realDown {
		s.RealState = "DOWN"
	}
	s.State = s.RealState
	if e.set {
		s.State = "UP!"
		if e.down {
			s.State = "DOWN!"
		}
		s.ForcedTTL = e.ttl
	}
	return s
}

// AdminKeys lists every admin_state key this Geo understands (site/DC,
// geoip/MAP/DC, geoip/RESOURCE/DC), so a caller can warn about lines whose
// glob matches none of them, as gdnsd does.
func (g *Geo) AdminKeys() []string {
	var keys []string
	for _, d := range g.sites {
		keys = append(keys, "site/"+d)
	}
	for _, m := range g.maps {
		for _, d := range m.dcs {
			keys = append(keys, "geoip/"+m.name+"/"+d)
		}
	}
	for _, r := range g.resources {
		for j, d := range r.m.dcs {
			if r.targets[j].defined {
				keys = append(keys, "geoip/"+r.name+"/"+d)
			}
		}
	}
	return keys
}
