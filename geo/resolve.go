package geo

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/geotraffic/geotraffic/health"
)

// Reason says why an answer was chosen, for metrics.
type Reason uint8

// Reasons.
const (
	ReasonNone     Reason = iota // no answer (nil resource)
	ReasonNets                   // a nets entry matched
	ReasonGeoIP                  // a map key matched the DB record
	ReasonAuto                   // auto mode sorted by distance
	ReasonDefault                // not in the DB, or no key matched
	ReasonPinned                 // geoip!RES/DC
	ReasonFailover               // the first DC of the list was DOWN
	ReasonPlugin                 // another plugin's resource: metafo's first DC, multifo, reflect...
)

var reasonNames = [...]string{"none", "nets", "geoip", "auto", "default", "pinned", "failover", "plugin"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Client is what the query tells about its origin. ECS is used when HasECS
// (the caller passes HasECS=false for a source prefix of 0), unless the map
// has ignore_ecs.
type Client struct {
	Src, ECS netip.Addr
	ECSBits  uint8
	HasECS   bool
}

// Answer is the outcome of Resolve. Its slices are read-only views into the
// Geo or into Buf; an Answer with no address nor CNAME is NODATA.
type Answer struct {
	DC     string
	V4, V6 []netip.Addr
	CNAME  string
	// Scope is the ECS scope in the query's family terms (IPv4 inside IPv6
	// adds 96, or 16 for 6to4); 0 without ECS, for pins and ignore_ecs.
	// A resource referred to from a dcmap adds its own (reflect: the
	// client's ECS source length), the largest winning, as gdnsd.
	Scope uint8
	// Net is every client address that gets this same answer (from this
	// Geo and Forced): the merged map entry around the address used,
	// which is the ECS address when UsedECS, else the source. It is the
	// zero Prefix when the resource has no map (a pin, metafo, another
	// plugin). Callers cache answers with it, or with ForAll: the answer
	// is every client's. NoCache says it is this query's alone (reflect,
	// weighted's random choice, a map below the top): never replay it.
	Net     netip.Prefix
	UsedECS bool
	ForAll  bool
	NoCache bool
	// TTL is gdnsd's: the minimum over the DCs visited (the answering
	// one included) of each DC's TTL: its forced /TTL when forced, else
	// that of what it answers with (its monitors' minimum). HasTTL is
	// false when that is health.MaxTTL (nothing shortens the record's
	// TTL).
	TTL    uint32
	HasTTL bool
	Reason Reason
	// AllDown: every DC of the list was DOWN, so the first one answered;
	// for another plugin's resource, it is DOWN (e.g. multifo below its
	// up_thresh).
	AllDown bool
	// Buf is storage the caller lends for addresses chosen per query
	// (reflect, weighted): ScratchAddrs long, its first half for IPv4.
	// Without it Resolve allocates.
	Buf []netip.Addr
}

// ScratchAddrs is the Answer.Buf length Resolve needs not to allocate:
// weighted answers at most 64 addresses per family.
const ScratchAddrs = 2 * maxWeightedItems

// query is one resolution's inputs, passed down nested resources.
type query struct {
	c Client
	f *Forced
	h *Monitored
}

// Resolve chooses the answer for one query into out. pinnedDC (from
// RES/DC) skips the map or order. f and h may be nil (nothing forced, all
// up) and must come from ApplyAdmin and ApplyHealth of the Geo that built
// r (else they are ignored). It does not allocate when out.Buf is set.
func (g *Geo) Resolve(r *Resource, pinnedDC string, c Client, f *Forced, h *Monitored, out *Answer) {
	buf := out.Buf
	*out = Answer{TTL: health.MaxTTL, Buf: buf}
	if r == nil {
		return
	}
	q := query{c: c, f: f, h: h}
	var down bool
	var ttl uint32
	switch {
	case !r.meta():
		out.Reason = ReasonPlugin
		down, ttl = q.leaf(r, out)
		out.AllDown = down
		out.ForAll, out.NoCache = !r.perClient, r.perClient
	case pinnedDC != "":
		out.Reason = ReasonPinned
		d, ok := r.byName[pinnedDC]
		if !ok {
			return
		}
		_, ttl = q.meta(r, int(d), out, true)
		out.ForAll, out.NoCache = !r.varies, r.varies
	default:
		_, ttl = q.meta(r, -1, out, true)
		out.ForAll, out.NoCache = r.kind == kindMetafo && !r.varies, r.varies
	}
	out.TTL = ttl
	out.HasTTL = ttl < health.MaxTTL
}

// resolve answers r into out and returns gdnsd's sttl: DOWN and the TTL.
func (q *query) resolve(r *Resource, pin int, out *Answer) (bool, uint32) {
	if r.meta() {
		return q.meta(r, pin, out, false)
	}
	return q.leaf(r, out)
}

// meta walks a geoip or metafo resource's DC list (the map's for the
// client, the datacenters order, or a pin's one DC): the first DC not
// DOWN answers, or the first one when all are (gdnsd's rule, DOWN passed
// up). Every DC visited folds its TTL in. top sets the Answer's
// Reason, Net and AllDown.
func (q *query) meta(r *Resource, pin int, out *Answer, top bool) (bool, uint32) {
	var list []uint8
	var mapScope uint8
	switch {
	case pin >= 0:
		list = r.dcIdx[pin : pin+1]
	case r.kind == kindGeoIP:
		m := r.m
		addr := q.c.Src
		useECS := q.c.HasECS && !m.ignoreECS
		if useECS {
			addr = q.c.ECS
		}
		leaf, scope := m.lookup(addr)
		if useECS {
			mapScope = scope
		}
		li := m.leaves[leaf]
		if top {
			out.UsedECS = useECS
			out.Net, _ = addr.Prefix(int(scope))
			out.Reason = li.reason
		}
		list = r.lists[li.list]
	default:
		list = r.lists[0]
		if top {
			out.Reason = ReasonPlugin
		}
	}
	ttl := uint32(health.MaxTTL)
	for i, d := range list {
		down, dTTL := q.dc(r, d, out)
		ttl = min(ttl, dTTL)
		if !down {
			if top && i > 0 {
				out.Reason = ReasonFailover
			}
			out.Scope = max(out.Scope, mapScope)
			return false, ttl
		}
	}
	if len(list) == 0 {
		out.DC, out.V4, out.V6, out.CNAME = "", nil, nil, ""
		out.Scope = max(out.Scope, mapScope)
		return false, ttl
	}
	q.dc(r, list[0], out)
	if top {
		out.AllDown = true
	}
	out.Scope = max(out.Scope, mapScope)
	return true, ttl
}

// dc resolves DC d of meta resource r into out: its CNAME or what it
// refers to. A forced state (resource > map > site) then replaces the
// DC's state and TTL (its /TTL, or MAX without one), as gdnsd's forced
// sttl.
func (q *query) dc(r *Resource, d uint8, out *Answer) (bool, uint32) {
	t := &r.targets[d]
	out.V4, out.V6, out.CNAME, out.Scope = nil, nil, "", 0
	down, ttl := false, uint32(health.MaxTTL)
	switch {
	case t.cname != "":
		out.CNAME = t.cname
		h := q.h.at(r, d)
		down, ttl = h.down, h.ttl
	case t.ref != nil:
		down, ttl = q.resolve(t.ref, t.pin, out)
	}
	if e := q.f.at(r, d); e.set {
		down, ttl = e.down, health.MaxTTL
		if e.hasTTL {
			ttl = e.ttl
		}
	}
	out.DC = r.dcs[d]
	return down, ttl
}

// leaf answers an address plugin's resource.
func (q *query) leaf(r *Resource, out *Answer) (bool, uint32) {
	switch r.kind {
	case kindMultifo, kindSimplefo:
		if lh := q.h.leafAt(r); lh != nil {
			out.V4, out.V6 = lh.v4, lh.v6
			return lh.down, lh.ttl
		}
		out.V4, out.V6 = r.fix4, r.fix6
	case kindStatic, kindNull:
		out.V4, out.V6, out.CNAME = r.fix4, r.fix6, r.cname
	case kindReflect:
		q.reflect(r, out)
	case kindWeighted:
		return q.weighted(r, out)
	}
	return false, health.MaxTTL
}

// reflect answers with the client's addresses, as gdnsd's reflect: dns
// the resolver's, edns the ECS client's (0.0.0.0 without ECS), best the
// ECS client's if any else the resolver's, both the two. With ECS the
// scope is the client's source length.
func (q *query) reflect(r *Resource, out *Answer) {
	buf := q.scratch(out)
	half := len(buf) / 2
	n4, n6 := 0, half
	put := func(a netip.Addr) {
		if a.Is4() {
			buf[n4] = a
			n4++
		} else {
			buf[n6] = a
			n6++
		}
	}
	ecs := q.c.HasECS
	mode := r.reflect
	if mode == reflectBoth || mode == reflectDNS || (mode == reflectBest && !ecs) {
		put(q.c.Src)
	}
	if ecs && mode != reflectDNS {
		put(q.c.ECS)
	} else if !ecs && mode == reflectEDNS {
		put(netip.IPv4Unspecified())
	}
	if ecs {
		out.Scope = max(out.Scope, q.c.ECSBits)
	}
	out.V4, out.V6 = buf[:n4], buf[half:n6]
}

// scratch is the caller's Buf, or new storage when it lent none.
func (q *query) scratch(out *Answer) []netip.Addr {
	if len(out.Buf) < ScratchAddrs {
		out.Buf = make([]netip.Addr, ScratchAddrs)
	}
	return out.Buf
}

// lookup finds a's leaf and its scope in a's own terms.
func (m *gmap) lookup(a netip.Addr) (leaf uint32, scope uint8) {
	if v4, off, ok := toV4(a); ok {
		l, d := m.tree.walk(m.tree.jump4, u128{uint64(v4) << 32, 0})
		return l, uint8(d) + off
	}
	l, d := m.tree.walk(m.tree.jump6, addrU128(a))
	return l, uint8(d)
}

// LookupMap returns the merged prefix containing addr (its length is the
// ECS scope an ECS query for addr gets) and the map's DC list for it, before
// any resource filtering or failover.
func (g *Geo) LookupMap(mapName string, addr netip.Addr) (netip.Prefix, []string, error) {
	m, ok := g.mapByName[mapName]
	if !ok {
		return netip.Prefix{}, nil, fmt.Errorf("no map named %q", mapName)
	}
	if !addr.IsValid() {
		return netip.Prefix{}, nil, fmt.Errorf("invalid address")
	}
	addr = addr.WithZone("")
	leaf, scope := m.lookup(addr)
	p, err := addr.Prefix(int(scope))
	if err != nil {
		return netip.Prefix{}, nil, err
	}
	l := m.lists[m.leaves[leaf].list]
	dcs := make([]string, len(l))
	for i, d := range l {
		dcs[i] = m.dcs[d]
	}
	return p, dcs, nil
}

// FormatLookup renders a LookupMap result as `MAP => PREFIX/LEN => dc1, dc2`;
// an empty list prints as `[]` (NODATA).
func FormatLookup(mapName string, p netip.Prefix, dcs []string) string {
	list := strings.Join(dcs, ", ")
	if len(dcs) == 0 {
		list = "[]"
	}
	return mapName + " => " + p.String() + " => " + list
}
