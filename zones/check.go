package zones

import (
	"github.com/miekg/dns"
)

// gdnsd loads zones with some data problems and only warns about them,
// unless zones_strict_data is set; these are the checks, with gdnsd's
// corrections of the data where it makes them.

// setTTLs applies gdnsd's DYNA/DYNC TTL rules: MIN defaults to half of
// MAX (minTTL <= 0: not given, or /0), MAX is clamped to [MinTTL, MaxTTL]
// and MIN to [MinTTL, MAX].
func (d *Dyn) setTTLs(b *builder, maxTTL uint32, minTTL int64) {
	what := "DYNA"
	if d.DYNC {
		what = "DYNC"
	}
	var clamped string
	if d.MaxTTL, clamped = clampTTL(maxTTL, what); clamped != "" {
		b.notef(d.where, "%s", clamped)
	}
	d.MinTTL = maxTTL / 2
	if minTTL > 0 {
		d.MinTTL = uint32(min(minTTL, 1<<32-1))
	}
	if d.MinTTL < MinTTL {
		b.warnf(d.where, "%s MIN TTL %d too small, raised to %d", what, d.MinTTL, MinTTL)
		d.MinTTL = MinTTL
	}
	if d.MinTTL > d.MaxTTL {
		b.warnf(d.where, "%s MIN TTL %d is above MAX TTL %d, lowered to it", what, d.MinTTL, d.MaxTTL)
		d.MinTTL = d.MaxTTL
	}
}

// soaTTLs clamps the negative-caching TTL (the SOA MINIMUM) to [MinTTL,
// MaxNcacheTTL] and the SOA's own TTL to it, as gdnsd does, and sets the
// serial and the SOA of negative answers.
func (b *builder) soaTTLs() {
	z := b.z
	soa := z.SOA.rrs[0].(*dns.SOA)
	where := z.SOA.lines[0].String()
	z.Serial = soa.Serial
	ncache := soa.Minttl
	switch {
	case ncache < MinTTL:
		b.warnf(where, "SOA negative-cache TTL %d too small, raised to %d", ncache, MinTTL)
		ncache = MinTTL
	case ncache > MaxNcacheTTL:
		b.warnf(where, "SOA negative-cache TTL %d too large, lowered to %d", ncache, MaxNcacheTTL)
		ncache = MaxNcacheTTL
	}
	if ncache != soa.Minttl { // gdnsd serves the clamped value
		soa.Minttl = ncache
		if rd, err := packRData(soa, nil); err == nil {
			z.SOA.RData[0] = rd
		}
	}
	if z.SOA.TTL > ncache {
		b.warnf(where, "SOA TTL %d is above the negative-cache TTL %d, lowered to it", z.SOA.TTL, ncache)
		z.SOA.TTL = ncache
	}
	neg := *z.SOA
	neg.TTL = min(z.SOA.TTL, ncache)
	z.NegSOA = &neg
}

// checkData warns about the apex NS set and about same-zone targets that
// lead nowhere, node by node in keys' (sorted) order. It runs after
// delegation points are marked and before empty non-terminals are added,
// so a missing node is NXDOMAIN.
func (b *builder) checkData(keys []string) {
	z := b.z
	if apex := z.nodes[string(z.Apex)]; apex != nil {
		b.checkApexNS(apex)
	}
	for _, k := range keys {
		n := z.nodes[k]
		if n.CNAME != nil && b.sameZone(n.CNAME.Target) && b.resolve(n.CNAME.Target) == nil {
			b.warnf(n.CNAME.lines[0].String(), "CNAME %s points to %s, which does not exist in this zone",
				presentation(n.Owner), presentation(n.CNAME.Target))
		}
		for _, s := range n.Sets {
			b.checkTargets(s)
		}
	}
}

func (b *builder) checkApexNS(apex *Node) {
	ns := apex.Find(dns.TypeNS)
	if ns == nil || b.z.SOA == nil {
		return
	}
	if len(ns.rrs) == 1 {
		b.warnf(ns.lines[0].String(), "zone %s has only one NS record", b.z.Name)
	}
	mname := dns.CanonicalName(b.z.SOA.rrs[0].(*dns.SOA).Ns)
	for _, rr := range ns.rrs {
		if dns.CanonicalName(rr.(*dns.NS).Ns) == mname {
			return
		}
	}
	b.warnf(b.z.SOA.lines[0].String(), "SOA MNAME %s is not among the NS records of %s", mname, b.z.Name)
}

// checkTargets warns about a PTR into its own zone and about same-zone MX
// and SRV targets without addresses.
func (b *builder) checkTargets(s *RRset) {
	for i, rr := range s.rrs {
		var target string
		switch v := rr.(type) {
		case *dns.PTR:
			if t, err := wireName(v.Ptr); err == nil && b.sameZone(lowerWire(t)) {
				b.warnf(s.lines[i].String(), "PTR at %s points into its own zone (%s): a final dot missing?",
					presentation(s.Owner), v.Ptr)
			}
			continue
		case *dns.MX:
			target = v.Mx
		case *dns.SRV:
			target = v.Target
		default:
			continue
		}
		t, err := wireName(target)
		if err != nil || target == "." || !b.sameZone(lowerWire(t)) {
			continue
		}
		if n := b.resolve(lowerWire(t)); n == nil || (n.Find(dns.TypeA) == nil && n.Find(dns.TypeAAAA) == nil && (n.Dyn == nil || n.Dyn.DYNC)) {
			b.warnf(s.lines[i].String(), "%s target %s at %s is in this zone and has no addresses",
				dns.TypeToString[s.Type], target, presentation(s.Owner))
		}
	}
}

// sameZone reports whether t (lowercase wire) is served from this zone's
// own data: inside it and not at or below a delegation.
func (b *builder) sameZone(t []byte) bool {
	z := b.z
	if !isSubdomain(t, z.Apex) {
		return false
	}
	var offs [128]int
	n := labelOffsets(t, &offs)
	for i := 0; i < n-z.labels; i++ {
		if a := z.nodes[string(t[offs[i]:])]; a != nil && a.Cut {
			return false
		}
	}
	return true
}

// resolve finds the node answering for t (lowercase wire, in the zone):
// the node itself or the wildcard closest to it; nil for NXDOMAIN.
func (b *builder) resolve(t []byte) *Node {
	z := b.z
	if n := z.nodes[string(t)]; n != nil {
		return n
	}
	var offs [128]int
	n := labelOffsets(t, &offs)
	for i := 1; i <= n-z.labels; i++ {
		anc := t[len(t)-1:] // the root
		if i < n {
			anc = t[offs[i]:]
		}
		if w := z.nodes["\x01*"+string(anc)]; w != nil {
			return w
		}
		if z.nodes[string(anc)] != nil {
			return nil
		}
	}
	return nil
}
