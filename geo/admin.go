package geo

import (
	"time"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/health"
)

// forced is one precomputed admin_state decision.
type forced struct {
	set, down, hasTTL bool
	ttl               uint32
	// entry indexes the deciding line in Forced.st, for States to say
	// where a forced state comes from; Resolve never reads it.
	entry int32
}

// at is resource r's decision for DC d; nothing is forced when f is nil
// or applies to another Geo (its indexes mean nothing for r).
func (f *Forced) at(r *Resource, d uint8) forced {
	if f == nil || f.g != r.g {
		return forced{}
	}
	return f.res[r.idx][d]
}

func fromIndex(st *adminstate.State, i int) forced {
	if i < 0 {
		return forced{}
	}
	e := st.Entries[i]
	return forced{set: true, down: e.Down, hasTTL: e.HasTTL, ttl: e.TTL, entry: int32(i)}
}

// Forced is an admin_state applied to one Geo: glob matching is done once
// per admin_state (or Geo) change so Resolve only indexes arrays.
type Forced struct {
	g    *Geo
	st   *adminstate.State // what was applied, for States' origins
	res  [][]forced        // [resource][DC] of geoip and metafo: resource > map > site
	maps [][]forced        // [map][DC]: map > site
	site map[string]forced // site/DC
}

// ApplyAdmin precomputes st for this Geo. Precedence: geoip/RESOURCE/DC over
// geoip/MAP/DC over site/DC (the DC is down everywhere), and
// metafo/RESOURCE/DC over site/DC; for one key the last matching line wins
// (adminstate.State.Lookup). st may be nil.
func (g *Geo) ApplyAdmin(st *adminstate.State) *Forced {
	f := &Forced{g: g, st: st, site: map[string]forced{}}
	look := func(key string) forced {
		return fromIndex(st, st.Find(key))
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
	f.res = make([][]forced, len(g.all))
	for _, r := range g.all {
		if !r.meta() {
			continue
		}
		f.res[r.idx] = make([]forced, len(r.dcs))
		for j, d := range r.dcs {
			if !r.targets[j].defined {
				continue
			}
			e := look(r.adminKey(j))
			switch {
			case e.set:
			case r.kind == kindGeoIP:
				e = f.maps[r.mapIdx][j]
			default:
				e = f.site[d]
			}
			f.res[r.idx][j] = e
		}
	}
	return f
}

// StateInfo is one line of `authdns states`: State is the effective state
// with "!" when forced (e.g. "DOWN!"), RealState the monitored one. A
// monitored entry (a resource DC with service types, or one ADDR/SERVICE
// pair) adds its monitor TTL, its last check and the last failure.
// A forced state also says which admin_state entry forced it, so an
// operator finds what to change: an etcd object (Key, Revision) or a line
// of the file (Line); ForcedBy is the same as one string.
type StateInfo struct {
	State     string `json:"state"`
	RealState string `json:"real_state"`
	TTL       uint32 `json:"ttl,omitempty"`        // monitor TTL, when monitored and below health.MaxTTL
	LastCheck string `json:"last_check,omitempty"` // RFC 3339, the newest check
	LastError string `json:"last_error,omitempty"` // the first failing check's error
	ForcedTTL uint32 `json:"forced_ttl,omitempty"`
	Source    string `json:"source,omitempty"`    // "etcd" or "file"
	ForcedBy  string `json:"forced_by,omitempty"` // "etcd /conftool/v1/sites/esams@42", "/etc/authdns/admin_state:3"
	Pattern   string `json:"pattern,omitempty"`   // the entry's key or glob
	Key       string `json:"key,omitempty"`       // etcd key
	Revision  int64  `json:"revision,omitempty"`  // etcd mod revision
	Line      int    `json:"line,omitempty"`      // line of the file
}

// SourceFile is StateInfo.Source for an entry of the admin_state file.
const SourceFile = "file"

// States reports every geoip/MAP/DC, geoip/RESOURCE/DC, metafo/RESOURCE/DC,
// site/DC and monitor (ADDR/SERVICE and CNAME./SERVICE, the built-in up
// and down included, as gdnsdctl states). A resource DC's real state is that
// of what it answers with (h may be nil: all up; a geoip or metafo
// resource referred to is DOWN when all its DCs are); a map's or site's
// real state is
// DOWN only when every resource DC under it is down. Forced states shown are
// the key's own for sites, map > site for maps and the effective one
// (resource > map > site) for resources.
func (g *Geo) States(f *Forced, h *Monitored) map[string]StateInfo {
	if f == nil || f.g != g {
		f = g.ApplyAdmin(nil)
	}
	type agg struct{ n, down int }
	mapReal := map[string]*agg{}
	siteReal := map[string]*agg{}
	out := map[string]StateInfo{}
	for _, r := range g.all {
		if !r.meta() {
			continue
		}
		for j, d := range r.dcs {
			if !r.targets[j].defined {
				continue
			}
			mh := h.dcState(r, j)
			aggs := []struct {
				m   map[string]*agg
				key string
			}{{siteReal, d}}
			if r.kind == kindGeoIP {
				aggs = append(aggs, struct {
					m   map[string]*agg
					key string
				}{mapReal, r.m.name + "/" + d})
			}
			for _, a := range aggs {
				x := a.m[a.key]
				if x == nil {
					x = &agg{}
					a.m[a.key] = x
				}
				x.n++
				if mh.down {
					x.down++
				}
			}
			si := f.stateInfo(f.res[r.idx][j], mh.down)
			monitored(&si, mh)
			out[r.adminKey(j)] = si
		}
	}
	for _, k := range g.monitors() {
		real := h.real(k)
		si := StateInfo{State: "UP", RealState: "UP"}
		if real.Down {
			si.State, si.RealState = "DOWN", "DOWN"
		}
		if _, i := h.state(k); i >= 0 {
			pf := &Forced{st: h.admin}
			si = pf.stateInfo(fromIndex(h.admin, i), real.Down)
		}
		monitored(&si, dcHealth{ttl: real.TTL, lastCheck: real.LastCheck, lastErr: real.LastError})
		out[k.String()] = si
	}
	for i, m := range g.maps {
		for j, d := range m.dcs {
			a := mapReal[m.name+"/"+d]
			out["geoip/"+m.name+"/"+d] = f.stateInfo(f.maps[i][j], a != nil && a.down == a.n)
		}
	}
	for _, d := range g.sites {
		a := siteReal[d]
		out["site/"+d] = f.stateInfo(f.site[d], a != nil && a.down == a.n)
	}
	return out
}

// monitored adds a monitored entry's TTL and last check to s.
func monitored(s *StateInfo, h dcHealth) {
	if h.ttl < health.MaxTTL {
		s.TTL = h.ttl
	}
	if !h.lastCheck.IsZero() {
		s.LastCheck = h.lastCheck.UTC().Format(time.RFC3339Nano)
	}
	s.LastError = h.lastErr
}

func (f *Forced) stateInfo(e forced, realDown bool) StateInfo {
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
		f.origin(&s, e)
	}
	return s
}

// origin fills in where the forcing entry comes from.
func (f *Forced) origin(s *StateInfo, e forced) {
	if f.st == nil || int(e.entry) >= len(f.st.Entries) {
		return
	}
	ent := f.st.Entries[e.entry]
	s.Pattern, s.ForcedBy = ent.Pattern, ent.Origin(f.st.File)
	if ent.Source != "" {
		s.Source, s.Key, s.Revision = ent.Source, ent.Key, ent.Revision
		return
	}
	s.Source, s.Line = SourceFile, ent.Line
}

// AdminKeys lists every admin_state key this Geo understands (site/DC,
// geoip/MAP/DC, geoip/RESOURCE/DC, metafo/RESOURCE/DC, every monitor's
// ADDR/SERVICE or CNAME./SERVICE, `192.0.2.1/up` included), so a caller
// can warn about lines whose glob matches none of them, as gdnsd does.
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
	for _, r := range g.all {
		for j := range r.dcs {
			if r.targets[j].defined {
				keys = append(keys, r.adminKey(j))
			}
		}
	}
	for _, k := range g.monitors() {
		keys = append(keys, k.String())
	}
	return keys
}

// dcState is DC d of meta resource r as monitored, with nothing forced:
// its CNAME's state, or that of the resource it refers to (a geoip or
// metafo one is DOWN when all its defined DCs are, whoever asks).
func (m *Monitored) dcState(r *Resource, d int) dcHealth {
	t := &r.targets[d]
	switch {
	case t.cname != "":
		return m.at(r, uint8(d))
	case t.ref == nil:
		return dcHealth{ttl: health.MaxTTL}
	case t.ref.meta():
		out := dcHealth{ttl: health.MaxTTL, down: true}
		for j := range t.ref.dcs {
			if !t.ref.targets[j].defined || (t.pin >= 0 && j != t.pin) {
				continue
			}
			h := m.dcState(t.ref, j)
			out.down = out.down && h.down
			out.ttl = min(out.ttl, h.ttl)
			if h.lastCheck.After(out.lastCheck) {
				out.lastCheck = h.lastCheck
			}
			if out.lastErr == "" {
				out.lastErr = h.lastErr
			}
		}
		return out
	}
	if lh := m.leafAt(t.ref); lh != nil {
		return lh.dcHealth
	}
	return dcHealth{ttl: health.MaxTTL}
}
