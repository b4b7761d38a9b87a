package dnsserver

import (
	"crypto"
	"encoding/binary"
	"hash/maphash"
	"sync"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// testDNSSEC signs the zones it was given keys for, with miekg/dns's own
// signing: the real signer is package dnssec's, which this package cannot
// import. It caches signatures by content, so a repeated answer is signed
// once and costs no allocation, as the real one does.
type testDNSSEC map[*zones.Zone]*testZoneSigner

func (d testDNSSEC) Zone(z *zones.Zone) ZoneSigner {
	if zs := d[z]; zs != nil {
		return zs
	}
	return nil
}

type testZoneSigner struct {
	apex   string
	key    *dns.DNSKEY
	priv   crypto.Signer
	dnskey *zones.RRset
	cds    *zones.RRset
	seed   maphash.Seed

	mu    sync.Mutex
	cache map[uint64][][]byte
	made  int  // signatures made
	fail  bool // sign nothing, as a signer that cannot
}

// newTestSigner makes an ECDSA P-256 CSK for zone z.
func newTestSigner(t testing.TB, z *zones.Zone) *testZoneSigner {
	t.Helper()
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: z.Name, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	priv, err := key.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	zs := &testZoneSigner{apex: z.Name, key: key, priv: priv.(crypto.Signer), seed: maphash.MakeSeed(),
		cache: map[uint64][][]byte{}}
	zs.dnskey = testRRset(t, z.Apex, key)
	zs.cds = testRRset(t, z.Apex, key.ToDS(dns.SHA256).ToCDS())
	return zs
}

// testRRset is a one-record set as zones packs them.
func testRRset(t testing.TB, owner []byte, rr dns.RR) *zones.RRset {
	t.Helper()
	h := rr.Header()
	rd, err := packedRData(rr)
	if err != nil {
		t.Fatal(err)
	}
	return &zones.RRset{Owner: owner, Type: h.Rrtype, Class: dns.ClassINET, TTL: h.Ttl, RData: [][]byte{rd}}
}

func packedRData(rr dns.RR) ([]byte, error) {
	buf := make([]byte, dns.Len(rr)+64)
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, err
	}
	h := 0
	for buf[h] != 0 {
		h += int(buf[h]) + 1
	}
	return buf[h+1+10 : off], nil
}

func (s *testZoneSigner) Apex() (dnskey, cds, cdnskey *zones.RRset) { return s.dnskey, s.cds, nil }

func (s *testZoneSigner) StaticSigs(set *zones.RRset, now time.Time) [][]byte {
	var lower [256]byte
	zones.LowerInto(lower[:], set.Owner)
	return s.Sigs(lower[:len(set.Owner)], set.Type, set.TTL, set.RData, now)
}

func (s *testZoneSigner) Sigs(owner []byte, typ uint16, ttl uint32, rdata [][]byte, now time.Time) [][]byte {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.Write(owner)
	var b [6]byte
	binary.BigEndian.PutUint16(b[:], typ)
	binary.BigEndian.PutUint32(b[2:], ttl)
	h.Write(b[:])
	k := h.Sum64()
	for _, rd := range rdata {
		k += maphash.Bytes(s.seed, rd) // any order
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return nil
	}
	if sigs, ok := s.cache[k]; ok {
		return sigs
	}
	sigs := s.sign(owner, typ, ttl, rdata, now)
	if sigs != nil {
		s.cache[k] = sigs
		s.made++
	}
	return sigs
}

func (s *testZoneSigner) sign(owner []byte, typ uint16, ttl uint32, rdata [][]byte, now time.Time) [][]byte {
	var rrs []dns.RR
	for _, rd := range rdata {
		buf := append([]byte(nil), owner...)
		buf = binary.BigEndian.AppendUint16(buf, typ)
		buf = binary.BigEndian.AppendUint16(buf, dns.ClassINET)
		buf = binary.BigEndian.AppendUint32(buf, ttl)
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(rd)))
		rr, _, err := dns.UnpackRR(append(buf, rd...), 0)
		if err != nil {
			return nil
		}
		rrs = append(rrs, rr)
	}
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Ttl: ttl}, Algorithm: s.key.Algorithm, KeyTag: s.key.KeyTag(),
		SignerName: s.apex, Inception: uint32(now.Add(-time.Hour).Unix()),
		Expiration: uint32(now.Add(14 * 24 * time.Hour).Unix())}
	if err := sig.Sign(s.priv, rrs); err != nil {
		return nil
	}
	rd, err := packedRData(sig)
	if err != nil {
		return nil
	}
	return [][]byte{rd}
}
