package dnssec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// zoneSigner signs one zone; it implements dnsserver.ZoneSigner.
type zoneSigner struct {
	s    *Signer
	id   uint32 // the zone's part of cache keys
	z    *zones.Zone
	zsk  []signingKey // sign everything but the apex key sets
	ksk  []signingKey // sign DNSKEY, CDS and CDNSKEY
	next time.Time    // the keys' next timing event; zero: none

	dnskey, cds, cdnskey *zones.RRset
	static               map[*zones.RRset]presigned // immutable once built
}

var _ dnsserver.ZoneSigner = (*zoneSigner)(nil)

// presigned is a static set's signatures, fresh until refresh.
type presigned struct {
	sigs    [][]byte
	refresh int64 // unix nanoseconds
}

// newZoneSigner prepares z's signer for the key state st (which signs).
// The static sets are signed later, by presign.
func newZoneSigner(s *Signer, id uint32, z *zones.Zone, st keys.State) (*zoneSigner, error) {
	zs := &zoneSigner{s: s, id: id, z: z, next: st.Next}
	var errs []error
	for _, k := range st.ZSK {
		sk, err := newSigningKey(k)
		errs = append(errs, err)
		zs.zsk = append(zs.zsk, sk)
	}
	for _, k := range st.KSK {
		sk, err := newSigningKey(k)
		errs = append(errs, err)
		zs.ksk = append(zs.ksk, sk)
	}
	if len(zs.ksk) == 0 { // no active SEP key: the ZSKs sign the keys too
		zs.ksk = zs.zsk
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("zone %s: %w", z.Name, err)
	}
	var err error
	if zs.dnskey, err = apexSet(z, dns.TypeDNSKEY, s.opt.DNSKEYTTL, st.DNSKEY); err != nil {
		return nil, err
	}
	if zs.cds, err = apexSet(z, dns.TypeCDS, s.opt.DNSKEYTTL, st.CDS); err != nil {
		return nil, err
	}
	if zs.cdnskey, err = apexSet(z, dns.TypeCDNSKEY, s.opt.DNSKEYTTL, st.CDNSKEY); err != nil {
		return nil, err
	}
	return zs, nil
}

// apexSet packs rrs as z's apex set of type typ; nil when there are none.
func apexSet[T dns.RR](z *zones.Zone, typ uint16, ttl uint32, rrs []T) (*zones.RRset, error) {
	if len(rrs) == 0 {
		return nil, nil
	}
	set := &zones.RRset{Owner: z.Apex, Type: typ, Class: dns.ClassINET, TTL: ttl}
	buf := make([]byte, 4096)
	for _, rr := range rrs {
		h := *rr.Header()
		h.Name, h.Rrtype, h.Class, h.Ttl = z.Name, typ, dns.ClassINET, ttl
		c := dns.Copy(rr)
		*c.Header() = h
		off, err := dns.PackRR(c, buf, 0, nil, false)
		if err != nil {
			return nil, fmt.Errorf("zone %s: cannot pack %s: %w", z.Name, dns.TypeToString[typ], err)
		}
		rd := buf[len(z.Apex)+10 : off]
		if binary.BigEndian.Uint16(buf[len(z.Apex)+8:]) != uint16(len(rd)) {
			return nil, fmt.Errorf("zone %s: cannot pack %s", z.Name, dns.TypeToString[typ])
		}
		set.RData = append(set.RData, append([]byte(nil), rd...))
	}
	return set, nil
}

// Apex returns the zone's DNSKEY, CDS and CDNSKEY sets.
func (zs *zoneSigner) Apex() (dnskey, cds, cdnskey *zones.RRset) {
	return zs.dnskey, zs.cds, zs.cdnskey
}

// StaticSigs returns set's signatures made at load time while fresh.
func (zs *zoneSigner) StaticSigs(set *zones.RRset, now time.Time) [][]byte {
	if p, ok := zs.static[set]; ok && now.UnixNano() < p.refresh {
		return p.sigs
	}
	return zs.Sigs(set.Owner, set.Type, set.TTL, set.RData, now)
}

// Sigs returns the signatures of an RRset from the cache, signing it on a
// miss; nil when it cannot sign (owner outside the zone, bad RDATA).
func (zs *zoneSigner) Sigs(owner []byte, typ uint16, ttl uint32, rdata [][]byte, now time.Time) [][]byte {
	// The key is built on the stack when it fits (most sets), else in a
	// pooled buffer: a hit allocates nothing either way.
	if keyLen(owner, rdata) <= stackKey {
		var stack [stackKey]byte
		return zs.cached(appendKey(stack[:0], zs.id, owner, typ, ttl, rdata), owner, typ, ttl, rdata, now)
	}
	c := zs.s.cache
	kb := c.keys.Get().(*keyBuf)
	kb.b = appendKey(kb.b[:0], zs.id, owner, typ, ttl, rdata)
	sigs := zs.cached(kb.b, owner, typ, ttl, rdata, now)
	c.keys.Put(kb)
	return sigs
}

// cached returns the signatures under key, signing them on a miss. It
// keeps no reference to key.
func (zs *zoneSigner) cached(key, owner []byte, typ uint16, ttl uint32, rdata [][]byte, now time.Time) [][]byte {
	c := zs.s.cache
	hash := c.hash(key)
	sigs, wait, own := c.lookup(key, hash, now.UnixNano())
	switch {
	case sigs != nil:
		return sigs
	case wait != nil:
		<-wait.done
		return wait.sigs
	}
	sigs = zs.signMiss(owner, typ, ttl, rdata, now)
	c.finish(own, hash, sigs, now.Add(zs.s.opt.Refresh).UnixNano())
	return sigs
}

// signMiss signs a set the cache did not have, at most opt.Workers at a
// time; nil when it cannot.
func (zs *zoneSigner) signMiss(owner []byte, typ uint16, ttl uint32, rdata [][]byte, now time.Time) [][]byte {
	s := zs.s
	s.sem <- struct{}{}
	sigs, err := zs.sign(owner, typ, ttl, rdata, now)
	<-s.sem
	if err != nil {
		s.signErrors.Add(1)
		return nil
	}
	return sigs
}

// sign makes the RRSIG RDATAs of a set with every key that signs its type.
func (zs *zoneSigner) sign(owner []byte, typ uint16, ttl uint32, rdata [][]byte, now time.Time) ([][]byte, error) {
	lower := make([]byte, len(owner))
	zones.LowerInto(lower, owner)
	if end, err := nameEnd(lower, 0); err != nil || end != len(lower) || !isWithin(lower, zs.z.Apex) {
		return nil, fmt.Errorf("owner %s is not in zone %s", presentation(lower), zs.z.Name)
	}
	if len(rdata) == 0 || typ == dns.TypeRRSIG {
		return nil, fmt.Errorf("cannot sign an empty or RRSIG set")
	}
	canon, err := canonicalSet(typ, rdata)
	if err != nil {
		return nil, err
	}
	signers := zs.zsk
	switch typ {
	case dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY:
		signers = zs.ksk
	}
	f := rrsigFields{
		typ:        typ,
		labels:     labelCount(lower),
		ttl:        ttl,
		inception:  uint32(now.Add(-inceptionSkew).Unix()),
		expiration: uint32(now.Add(zs.s.opt.Validity - zs.s.jitter(lower, typ)).Unix()),
		signer:     zs.z.Apex,
	}
	sigs := make([][]byte, 0, len(signers))
	for _, k := range signers {
		sig, err := k.sign(f, lower, canon)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, sig)
	}
	zs.s.signatures.Add(uint64(len(sigs)))
	return sigs, nil
}
