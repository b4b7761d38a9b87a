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
)

var reasonNames = [...]string{"none", "nets", "geoip", "auto", "default", "pinned", "failover"}

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
// Geo; an Answer with no DC is NODATA.
type Answer struct {
	DC     string
	V4, V6 []netip.Addr
	CNAME  string
	// Scope is the ECS scope in the query's family terms (IPv4 inside IPv6
	// adds 96, or 16 for 6to4); 0 without ECS, for pins and ignore_ecs.
	Scope uint8
	// Net is every client address that gets this same answer (from this
	// Geo and Forced): the merged map entry around the address used,
	// which is the ECS address when UsedECS, else the source. It is the
	// zero Prefix for a pin, which answers every client alike. Callers
	// cache answers with it.
	Net     netip.Prefix
	UsedECS bool
	// TTL is gdnsd's: the minimum over the DCs visited (the answering
	// one included) of each DC's TTL: its forced /TTL when forced, else
	// its monitors' minimum. HasTTL is false when that is health.MaxTTL
	// (nothing shortens the record's TTL).
	TTL    uint32
	HasTTL bool
	Reason Reason
	// AllDown: every DC of the list was DOWN, so the first one answered.
	AllDown bool
}

// Resolve chooses the answer for one query into out. pinnedDC (from
// geoip!RES/DC) skips the map. f and h may be nil (nothing forced, all up)
// and must come from ApplyAdmin and ApplyHealth of the Geo that built r
// (else they are ignored). It does not allocate.
func (g *Geo) Resolve(r *Resource, pinnedDC string, c Client, f *Forced, h *Monitored, out *Answer) {
	*out = Answer{TTL: health.MaxTTL}
	if r == nil {
		return
	}
	if pinnedDC != "" {
		out.Reason = ReasonPinned
		d, ok := r.byName[pinnedDC]
		if !ok {
			return
		}
		out.AllDown = r.down(d, f, h, out)
		r.fill(d, out)
		out.HasTTL = out.TTL < health.MaxTTL
		return
	}
	m := r.m
	addr := c.Src
	useECS := c.HasECS && !m.ignoreECS
	if useECS {
		addr = c.ECS
	}
	leaf, scope := m.lookup(addr)
	if useECS {
		out.Scope = scope
	}
	out.UsedECS = useECS
	out.Net, _ = addr.Prefix(int(scope))
	li := m.leaves[leaf]
	out.Reason = li.reason
	list := r.lists[li.list]
	r.walk(list, f, h, out)
	out.HasTTL = out.TTL < health.MaxTTL
}

// walk answers with the first DC of list that is not down, or the first
// one when all are (gdnsd's rule); every DC visited folds its TTL in.
func (r *Resource) walk(list []uint8, f *Forced, h *Monitored, out *Answer) {
	for i, d := range list {
		if !r.down(d, f, h, out) {
			if i > 0 {
				out.Reason = ReasonFailover
			}
			r.fill(d, out)
			return
		}
	}
	if len(list) > 0 {
		out.AllDown = true
		r.fill(list[0], out)
	}
}

// down is the state of DC d for this resource: forced first (its /TTL,
// or MAX without one, replaces the monitors' TTL, as gdnsd's forced
// sttl), then health. It folds the DC's TTL into out.TTL, which Resolve
// starts at health.MaxTTL.
func (r *Resource) down(d uint8, f *Forced, h *Monitored, out *Answer) bool {
	ttl, down := uint32(health.MaxTTL), false
	if e := f.at(r, d); e.set {
		if e.hasTTL {
			ttl = e.ttl
		}
		down = e.down
	} else {
		mh := h.at(r, d)
		ttl, down = mh.ttl, mh.down
	}
	if ttl < out.TTL {
		out.TTL = ttl
	}
	return down
}

func (r *Resource) fill(d uint8, out *Answer) {
	t := &r.targets[d]
	out.DC = r.m.dcs[d]
	out.V4, out.V6, out.CNAME = t.v4, t.v6, t.cname
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
