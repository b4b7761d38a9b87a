package dnsserver

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// The signed answer path. A reply is signed when the query has DO and its
// zone has a ZoneSigner: every RRset of the Answer and Authority sections
// is followed by its RRSIGs (the NS set of a referral excepted, RFC 4035
// §2.2), and absence is proven with RFC 9824's compact answers, one NSEC
// at the name itself: a name that does not exist gets NOERROR (NXDOMAIN
// only when the query sets CO) and an NSEC listing RRSIG NSEC NXNAME, a
// NODATA an NSEC listing the types that do exist there. Additional data
// goes unsigned (RFC 4035 §3.1.1 lets RRSIGs there be left out).

// signScratch is a worker's storage for signing one reply without
// allocating once it has grown to the largest reply seen.
type signScratch struct {
	now   time.Time
	owner [256]byte // an owner name lowercased, for the signer only
	rd    [][]byte  // the packed RDATAs of one dynamic RRset
	rdBuf []byte
	types []uint16
	nsec  []byte // the NSEC's RDATA
}

// lower returns w lowercased in the scratch, valid until the next call.
// The writer never sees it: it remembers the names it writes.
func (sc *signScratch) lower(w []byte) []byte {
	zones.LowerInto(sc.owner[:len(w)], w)
	return sc.owner[:len(w)]
}

// lookup answers the question into wk.res and returns the signer of the
// reply's zone when the reply is to be signed.
func (wk *worker) lookup(snap *Snapshot) ZoneSigner {
	r, res := &wk.req, &wk.res
	res.Reset()
	if snap.DNSSEC == nil {
		snap.Zones.Lookup(r.lower(), r.qtype, &wk.dyn, res)
		return nil
	}
	switch r.qtype {
	case dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY, dns.TypeRRSIG:
		if z := snap.Zones.FindZone(r.lower()); z != nil {
			if zs := snap.DNSSEC.Zone(z); zs != nil && wk.keyQuery(z, zs) {
				return wk.signing(zs)
			}
		}
	}
	snap.Zones.Lookup(r.lower(), r.qtype, &wk.dyn, res)
	if !r.do || res.Zone == nil {
		return nil
	}
	return wk.signing(snap.DNSSEC.Zone(res.Zone))
}

// signing returns zs when the reply is to be signed by it, and fixes the
// signing time.
func (wk *worker) signing(zs ZoneSigner) ZoneSigner {
	if zs == nil || !wk.req.do || wk.res.Zone == nil {
		return nil
	}
	wk.sign.now = wk.now
	if wk.sign.now.IsZero() {
		wk.sign.now = time.Now()
	}
	return zs
}

// keyQuery answers, in signed zone z, the apex's DNSKEY, CDS and CDNSKEY
// sets from the signer (with or without DO), and refuses RRSIG queries:
// an online signer has no RRSIG set to give, only the signatures of the
// sets asked for. It reports whether it answered.
func (wk *worker) keyQuery(z *zones.Zone, zs ZoneSigner) bool {
	r, res := &wk.req, &wk.res
	if r.qtype == dns.TypeRRSIG {
		res.Rcode = dns.RcodeRefused
		return true
	}
	if string(r.lower()) != string(z.Apex) {
		return false
	}
	set := apexSet(zs, r.qtype)
	if set == nil {
		return false // not published: the zone's NODATA
	}
	res.Zone, res.AA = z, true
	res.Answer = append(res.Answer, zones.Item{Set: set, Owner: set.Owner})
	return true
}

func apexSet(zs ZoneSigner, t uint16) *zones.RRset {
	dnskey, cds, cdnskey := zs.Apex()
	switch t {
	case dns.TypeDNSKEY:
		return dnskey
	case dns.TypeCDS:
		return cds
	case dns.TypeCDNSKEY:
		return cdnskey
	}
	return nil
}

// signedSections writes the Answer and Authority sections of a signed
// reply. fit is false when the limit was passed (the caller truncates);
// signed is false when a set could not be signed (the caller answers
// SERVFAIL: a signed zone never serves unsigned data).
func (wk *worker) signedSections(zs ZoneSigner) (fit, signed bool) {
	w, res := &wk.w, &wk.res
	d := &res.Denial
	// An NSEC query is answered with the NSEC a denial would carry.
	nsecAnswer := wk.req.qtype == dns.TypeNSEC && d.Owner != nil && !d.Referral
	n := 0
	for i := range res.Answer {
		c, ok := wk.signedItem(zs, &res.Answer[i])
		if !ok {
			return true, false
		}
		if n += c; w.len() > w.limit {
			return false, true
		}
	}
	if nsecAnswer {
		c, ok := wk.writeNSEC(zs)
		if !ok {
			return true, false
		}
		n += c
	}
	binary.BigEndian.PutUint16(w.buf[6:], uint16(n))
	n = 0
	if !nsecAnswer {
		for i := range res.Authority {
			it := &res.Authority[i]
			c, ok := 0, true
			if d.Referral {
				c = w.item(it) // the NS set at a cut is the child's: not signed
			} else {
				c, ok = wk.signedItem(zs, it)
			}
			if !ok {
				return true, false
			}
			if n += c; w.len() > w.limit {
				return false, true
			}
		}
		c, ok := wk.writeProof(zs)
		if !ok {
			return true, false
		}
		n += c
	}
	binary.BigEndian.PutUint16(w.buf[8:], uint16(n))
	return w.len() <= w.limit, true
}

// writeProof writes the Authority's proof: the DS set of a referral's cut
// or the NSEC saying it has none, or the NSEC of a denial.
func (wk *worker) writeProof(zs ZoneSigner) (int, bool) {
	d := &wk.res.Denial
	switch {
	case d.Owner == nil:
		return 0, true
	case d.Referral:
		if ds := d.Node.Find(dns.TypeDS); ds != nil {
			return wk.signedItem(zs, &zones.Item{Set: ds, Owner: ds.Owner})
		}
	}
	return wk.writeNSEC(zs)
}

// signedItem writes one item and its RRSIGs, and returns how many records
// it wrote; false: it could not be signed.
func (wk *worker) signedItem(zs ZoneSigner, it *zones.Item) (int, bool) {
	sigs, ttl := wk.itemSigs(zs, it)
	if sigs == nil {
		return 0, false
	}
	c := wk.w.item(it)
	return c + wk.w.rrsigs(it.Owner, ttl, sigs), true
}

// itemSigs returns the RRSIGs of one item and their TTL, the set's.
func (wk *worker) itemSigs(zs ZoneSigner, it *zones.Item) ([][]byte, uint32) {
	sc := &wk.sign
	switch {
	case it.Set != nil && !it.Synth:
		return zs.StaticSigs(it.Set, sc.now), it.Set.TTL
	case it.Set != nil:
		return zs.Sigs(sc.lower(it.Owner), it.Set.Type, it.Set.TTL, it.Set.RData, sc.now), it.Set.TTL
	case it.CNAME != nil:
		sc.rd = append(sc.rd[:0], it.CNAME)
		return zs.Sigs(sc.lower(it.Owner), dns.TypeCNAME, it.TTL, sc.rd, sc.now), it.TTL
	}
	return zs.Sigs(sc.lower(it.Owner), it.AddrType, it.TTL, sc.addrRData(it), sc.now), it.TTL
}

// addrRData packs a dynamic item's addresses as A or AAAA RDATAs.
func (sc *signScratch) addrRData(it *zones.Item) [][]byte {
	size := 4
	if it.AddrType == dns.TypeAAAA {
		size = 16
	}
	if need := len(it.Addrs) * size; cap(sc.rdBuf) < need {
		sc.rdBuf = make([]byte, need)
	}
	sc.rd = sc.rd[:0]
	for i, a := range it.Addrs {
		b := sc.rdBuf[i*size : (i+1)*size]
		if size == 4 {
			v := a.As4()
			copy(b, v[:])
		} else {
			v := a.As16()
			copy(b, v[:])
		}
		sc.rd = append(sc.rd, b)
	}
	return sc.rd
}

// writeNSEC writes the compact-denial NSEC at the denial's owner, with the
// negative TTL (RFC 9077), and its RRSIGs.
func (wk *worker) writeNSEC(zs ZoneSigner) (int, bool) {
	res, sc := &wk.res, &wk.sign
	d := &res.Denial
	rdata := sc.nsecRData(d, res.Zone, zs, wk.req.qtype)
	if rdata == nil {
		return 0, false
	}
	ttl := res.Zone.NegSOA.TTL
	sc.rd = append(sc.rd[:0], rdata)
	sigs := zs.Sigs(d.Owner, dns.TypeNSEC, ttl, sc.rd, sc.now)
	if sigs == nil {
		return 0, false
	}
	wk.w.rr(d.Owner, dns.TypeNSEC, dns.ClassINET, ttl, rdata)
	return 1 + wk.w.rrsigs(d.Owner, ttl, sigs), true
}

// nsecRData builds the RDATA of the NSEC at d.Owner: the next name is the
// owner's immediate successor, so the NSEC covers no other name, and the
// bitmap lists what exists there (RFC 9824 §3).
func (sc *signScratch) nsecRData(d *zones.Denial, z *zones.Zone, zs ZoneSigner, qtype uint16) []byte {
	t := sc.types[:0]
	n := d.Node
	switch {
	case n == nil:
		t = append(t, dns.TypeNXNAME)
	case d.Referral || n.Cut:
		// Only the NS set (and DS) at a cut belong to this zone.
		t = append(t, dns.TypeNS)
		if n.Find(dns.TypeDS) != nil && !d.Referral {
			t = append(t, dns.TypeDS)
		}
	default:
		for _, s := range n.Sets {
			t = append(t, s.Type)
		}
		if n.CNAME != nil {
			t = append(t, dns.TypeCNAME)
		}
		if n.Dyn != nil {
			t = append(t, dns.TypeA, dns.TypeAAAA)
		}
		if string(d.Owner) == string(z.Apex) {
			dnskey, cds, cdnskey := zs.Apex()
			for i, s := range [3]*zones.RRset{dnskey, cds, cdnskey} {
				if s != nil {
					t = append(t, [3]uint16{dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY}[i])
				}
			}
		}
	}
	if n != nil && !d.Referral {
		// NODATA: whatever the zone has, the type asked has no answer
		// for this client (a DYNA without an address of the family).
		k := 0
		for _, x := range t {
			if x != qtype {
				t[k] = x
				k++
			}
		}
		t = t[:k]
	}
	t = append(t, dns.TypeRRSIG, dns.TypeNSEC)
	slices.Sort(t)
	t = slices.Compact(t)
	sc.types = t

	b := sc.nsec[:0]
	if len(d.Owner)+2 <= 255 {
		b = append(append(b, 1, 0), d.Owner...) // \000.owner
	} else {
		// No room for a label: a greater name, differing in the first
		// label's last byte (RFC 4471's "increment").
		b = append(b, d.Owner...)
		last := int(b[0])
		if last == 0 || b[last] == 0xFF {
			return nil
		}
		b[last]++
	}
	b = appendTypeBitmap(b, t)
	sc.nsec = b
	return b
}

// appendTypeBitmap appends the NSEC type bitmap of types (sorted, unique):
// for each window of 256 types that has one, its number, the length of
// its bitmap, and the bitmap up to its last non-zero byte.
func appendTypeBitmap(dst []byte, types []uint16) []byte {
	for i := 0; i < len(types); {
		win := types[i] >> 8
		var bits [32]byte
		n := 0
		for ; i < len(types) && types[i]>>8 == win; i++ {
			lo := types[i] & 0xFF
			bits[lo/8] |= 0x80 >> (lo % 8)
			n = int(lo/8) + 1
		}
		dst = append(dst, byte(win), byte(n))
		dst = append(dst, bits[:n]...)
	}
	return dst
}

// rrsigs writes the RRSIG records of an RRset at owner with its TTL, and
// returns how many.
func (w *writer) rrsigs(owner []byte, ttl uint32, sigs [][]byte) int {
	for _, s := range sigs {
		w.rr(owner, dns.TypeRRSIG, dns.ClassINET, ttl, s)
	}
	return len(sigs)
}
