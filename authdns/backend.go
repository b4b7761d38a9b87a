package authdns

import (
	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/geo"
	"github.com/geotraffic/geotraffic/zones"
)

// geoBackend answers DYNA/DYNC from the GeoIP maps with the admin_state in
// force when it was built (a new backend is made on every admin change).
type geoBackend struct {
	g      *geo.Geo
	f      *geo.Forced
	cnames map[string][]byte // CNAME target → lowercase wire, built once
}

func newGeoBackend(g *geo.Geo, f *geo.Forced, set *zones.Set) *geoBackend {
	b := &geoBackend{g: g, f: f, cnames: map[string][]byte{}}
	for _, name := range g.Resources() {
		r, _ := g.Resource(name)
		for _, t := range r.CNAMETargets() {
			buf := make([]byte, 256)
			n, err := dns.PackDomainName(dns.CanonicalName(t), buf, 0, nil, false)
			if err == nil {
				b.cnames[t] = buf[:n]
			}
		}
	}
	return b
}

func (b *geoBackend) Resolve(d *zones.Dyn, c *dnsserver.Client, out *zones.DynAnswer, info *dnsserver.DynInfo) {
	r, _ := d.Handle.(*geo.Resource)
	var a geo.Answer
	b.g.Resolve(r, d.DC, geo.Client{Src: c.Src, ECS: c.ECS, ECSBits: c.ECSBits, HasECS: c.HasECS}, b.f, nil, &a)
	out.V4, out.V6 = a.V4, a.V6
	if a.CNAME != "" {
		out.CNAME = b.cnames[a.CNAME]
	}
	out.TTL = d.ClampTTL(a.TTL, a.HasTTL)
	info.Scope, info.DC, info.Reason, info.AllDown = a.Scope, a.DC, a.Reason.String(), a.AllDown
}
