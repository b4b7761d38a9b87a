package authdns

import (
	"slices"
	"sync"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/geo"
	"github.com/geotraffic/geotraffic/zones"
)

// geoBackend answers DYNA/DYNC from geo's resources (geoip and gdnsd's
// other resolver plugins) with the admin_state and
// the health snapshot in force when it was built (a new backend is made on
// every admin or health change).
type geoBackend struct {
	g      *geo.Geo
	f      *geo.Forced
	h      *geo.Monitored
	cnames map[string][]byte // CNAME target → lowercase wire, built once
	dcs    []string          // DC names by metrics slot
}

func newGeoBackend(g *geo.Geo, f *geo.Forced, h *geo.Monitored, dcs []string) *geoBackend {
	b := &geoBackend{g: g, f: f, h: h, cnames: map[string][]byte{}, dcs: dcs}
	for _, t := range g.CNAMETargets() {
		buf := make([]byte, 256)
		n, err := dns.PackDomainName(dns.CanonicalName(t), buf, 0, nil, false)
		if err == nil {
			b.cnames[t] = buf[:n]
		}
	}
	return b
}

func (b *geoBackend) Resolve(d *zones.Dyn, c *dnsserver.Client, out *zones.DynAnswer, info *dnsserver.DynInfo) {
	r, _ := d.Handle.(*geo.Resource)
	a := geo.Answer{Buf: info.Scratch}
	b.g.Resolve(r, d.DC, geo.Client{Src: c.Src, ECS: c.ECS, ECSBits: c.ECSBits, HasECS: c.HasECS}, b.f, b.h, &a)
	out.V4, out.V6 = a.V4, a.V6
	if a.CNAME != "" {
		out.CNAME = b.cnames[a.CNAME]
	}
	out.TTL = d.ClampTTL(a.TTL, a.HasTTL)
	info.Scope, info.DC, info.Reason, info.AllDown = a.Scope, a.DC, a.Reason.String(), a.AllDown
	info.ReasonCode = uint8(a.Reason)
	info.Net, info.UsedECS, info.SameForAll, info.NoCache = a.Net, a.UsedECS, a.ForAll, a.NoCache
	info.DCSlot = dnsserver.MaxDCSlots - 1
	// A short scan, not a map: there are few DCs, their names are short,
	// and most comparisons stop at the length.
	for i, n := range b.dcs {
		if n == a.DC {
			info.DCSlot = uint8(i)
			break
		}
	}
}

// DCSlots gives every DC name a fixed counter slot for the life of the
// daemon, so DYNA counters stay monotonic across reloads that add or
// remove DCs. Slot MaxDCSlots-1 is "other".
type DCSlots struct {
	mu    sync.Mutex
	names []string
}

// table assigns slots to dcs and returns the names by slot.
func (s *DCSlots) table(dcs []string) []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, dc := range dcs {
		if !slices.Contains(s.names, dc) && len(s.names) < dnsserver.MaxDCSlots-1 {
			s.names = append(s.names, dc)
		}
	}
	return slices.Clone(s.names)
}

// Name is the DC of slot i ("other" for the overflow slot).
func (s *DCSlots) Name(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < len(s.names) {
		return s.names[i]
	}
	return "other"
}
