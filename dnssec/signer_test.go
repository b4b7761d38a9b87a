package dnssec

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

const testZone = `$TTL 300
@ 3600 IN SOA ns1.Example.org. Hostmaster.Example.org. 1 7200 3600 1209600 300
@ IN NS ns1
@ IN NS ns2.other.net.
@ IN MX 10 MAIL.Example.ORG.
ns1 IN A 192.0.2.1
mail IN A 192.0.2.2
mail IN AAAA 2001:db8::2
UPPER IN A 192.0.2.3
alias IN CNAME WWW.Example.org.
www IN A 192.0.2.4
www IN A 192.0.2.5
*.w IN A 192.0.2.6
_sip._tcp IN SRV 10 60 5060 MAIL
txt IN TXT "hello" "world"
sub IN NS ns.sub
sub IN DS 12345 13 2 E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766
ns.sub IN A 192.0.2.7
deep.ns.sub IN TXT "occluded"
insecure IN NS ns.other.net.
a.b.c IN A 192.0.2.8
`

// newTestSigner signs testZone with the key state st.
func newTestSigner(t testing.TB, st keys.State, opt Options) (*Signer, *zones.Zone) {
	t.Helper()
	set := loadZone(t, "example.org", testZone)
	s, err := newSigner(set, map[string]keys.State{"example.org.": st}, opt, testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, set.Zone("example.org.")
}

// Every static set at an authoritative name verifies with miekg's
// Verify; NS at cuts and what lies below them are left unsigned.
func TestStaticSetsVerify(t *testing.T) {
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			k := newKey(t, "example.org.", alg, 257)
			s, z := newTestSigner(t, cskState(k), Options{})
			zs := s.Zone(z).(*zoneSigner)
			signed := map[string]bool{}
			z.Walk(func(n *zones.Node) {
				sets := append([]*zones.RRset(nil), n.Sets...)
				if n.CNAME != nil {
					sets = append(sets, n.CNAME)
				}
				for _, set := range sets {
					name := strings.ToLower(presentation(set.Owner)) + " " + dns.TypeToString[set.Type]
					p, ok := zs.static[set]
					if !ok {
						continue
					}
					signed[name] = true
					sigs := zs.StaticSigs(set, testNow)
					if &sigs[0][0] != &p.sigs[0][0] {
						t.Errorf("%s: StaticSigs did not return the pre-signed signatures", name)
					}
					rr := verify(t, sigs, presentation(set.Owner), set.Type, set.TTL, set.RData, k)
					if want := uint8(dns.CountLabel(presentation(set.Owner))); name == "*.w.example.org. A" {
						if rr[0].Labels != want-1 {
							t.Errorf("%s: labels %d, want %d", name, rr[0].Labels, want-1)
						}
					} else if rr[0].Labels != want {
						t.Errorf("%s: labels %d, want %d", name, rr[0].Labels, want)
					}
				}
			})
			for _, want := range []string{
				"example.org. SOA", "example.org. NS", "example.org. MX", "upper.example.org. A",
				"alias.example.org. CNAME", "*.w.example.org. A", "_sip._tcp.example.org. SRV",
				"txt.example.org. TXT", "sub.example.org. DS", "a.b.c.example.org. A",
			} {
				if !signed[want] {
					t.Errorf("%s not pre-signed", want)
				}
			}
			for _, unwanted := range []string{
				"sub.example.org. NS", "ns.sub.example.org. A", "deep.ns.sub.example.org. TXT", "insecure.example.org. NS",
			} {
				if signed[unwanted] {
					t.Errorf("%s pre-signed: it is below or at a cut", unwanted)
				}
			}
			neg := z.NegSOA
			if _, ok := zs.static[neg]; !ok || neg == z.SOA {
				t.Errorf("the negative answers' SOA is not pre-signed")
			}
			verify(t, zs.StaticSigs(neg, testNow), "example.org.", dns.TypeSOA, neg.TTL, neg.RData, k)
			dnskey, cds, cdnskey := zs.Apex()
			if cds != nil || cdnskey != nil {
				t.Errorf("CDS/CDNSKEY published without being in the state")
			}
			verify(t, zs.StaticSigs(dnskey, testNow), "example.org.", dns.TypeDNSKEY, DefaultDNSKEYTTL, dnskey.RData, k)
		})
	}
}

// A KSK signs the apex key sets, the ZSK everything else; during a
// rollover both active ZSKs sign.
func TestKSKAndZSKSplit(t *testing.T) {
	ksk := newKey(t, "example.org.", dns.ECDSAP256SHA256, 257)
	zsk1 := newKey(t, "example.org.", dns.ECDSAP256SHA256, 256)
	zsk2 := newKey(t, "example.org.", dns.ED25519, 256)
	st := keys.State{
		DNSKEY:  []*dns.DNSKEY{ksk.DNSKEY, zsk1.DNSKEY, zsk2.DNSKEY},
		KSK:     []*keys.Key{ksk},
		ZSK:     []*keys.Key{zsk1, zsk2},
		CDS:     []*dns.CDS{ksk.DNSKEY.ToDS(dns.SHA256).ToCDS()},
		CDNSKEY: []*dns.CDNSKEY{ksk.DNSKEY.ToCDNSKEY()},
	}
	s, z := newTestSigner(t, st, Options{DNSKEYTTL: 600})
	zs := s.Zone(z)
	dnskey, cds, cdnskey := zs.Apex()
	if len(dnskey.RData) != 3 || dnskey.TTL != 600 || dnskey.Class != dns.ClassINET {
		t.Fatalf("DNSKEY set: %d keys, TTL %d, class %d", len(dnskey.RData), dnskey.TTL, dnskey.Class)
	}
	for _, set := range []*zones.RRset{dnskey, cds, cdnskey} {
		verify(t, zs.StaticSigs(set, testNow), "example.org.", set.Type, 600, set.RData, ksk)
	}
	// Not from the pre-signed map either: the type decides the key.
	verify(t, zs.Sigs(wire(t, "Example.ORG."), dns.TypeDNSKEY, 600, dnskey.RData, testNow), "example.org.", dns.TypeDNSKEY, 600, dnskey.RData, ksk)
	rrs := records(t, "example.org.", dns.TypeCDS, 600, cds.RData)
	if rrs[0].(*dns.CDS).Digest != st.CDS[0].Digest {
		t.Errorf("CDS %s, want %s", rrs[0], st.CDS[0])
	}
	soa := z.SOA
	verify(t, zs.StaticSigs(soa, testNow), "example.org.", dns.TypeSOA, soa.TTL, soa.RData, zsk1, zsk2)
	a := rdataOf(t, "x.example.org. A 198.51.100.1")
	verify(t, zs.Sigs(wire(t, "x.example.org."), dns.TypeA, 60, a, testNow), "x.example.org.", dns.TypeA, 60, a, zsk1, zsk2)
}

// Dynamic sets: owners in any case and RDATA in any order hit one entry;
// names inside RDATA are lowercased for signing; a wildcard expansion is
// signed at the query name.
func TestSigsCache(t *testing.T) {
	k := newKey(t, "example.org.", dns.ED25519, 257)
	s, z := newTestSigner(t, cskState(k), Options{})
	zs := s.Zone(z)
	a := rdataOf(t, "x. A 192.0.2.10", "x. A 192.0.2.11", "x. A 192.0.2.12")
	first := zs.Sigs(wire(t, "geo.example.org."), dns.TypeA, 300, a, testNow)
	verify(t, first, "geo.example.org.", dns.TypeA, 300, a, k)
	before := s.Stats()
	again := zs.Sigs(wire(t, "GEO.Example.ORG."), dns.TypeA, 300, [][]byte{a[2], a[0], a[1]}, testNow.Add(time.Minute))
	if &again[0][0] != &first[0][0] {
		t.Errorf("the same set in another case and order was signed again")
	}
	if st := s.Stats(); st.CacheHits != before.CacheHits+1 || st.Signatures != before.Signatures {
		t.Errorf("stats after a hit: %+v, before %+v", st, before)
	}
	if other := zs.Sigs(wire(t, "geo.example.org."), dns.TypeA, 301, a, testNow); &other[0][0] == &first[0][0] {
		t.Errorf("another TTL hit the same entry")
	}

	cname := rdataOf(t, "x. CNAME Target.EXAMPLE.org.")
	verify(t, zs.Sigs(wire(t, "dync.example.org."), dns.TypeCNAME, 60, cname, testNow), "dync.example.org.", dns.TypeCNAME, 60, cname, k)

	// A wildcard expansion at the query name: labels are the qname's.
	w := rdataOf(t, "x. A 192.0.2.6")
	sig := verify(t, zs.Sigs(wire(t, "foo.w.example.org."), dns.TypeA, 300, w, testNow), "foo.w.example.org.", dns.TypeA, 300, w, k)
	if sig[0].Labels != 4 {
		t.Errorf("expansion labels %d, want 4", sig[0].Labels)
	}
	if len(zs.Sigs(wire(t, "www.example.com."), dns.TypeA, 300, w, testNow)) != 0 {
		t.Errorf("a name outside the zone was signed")
	}
	if len(zs.Sigs(wire(t, "x.example.org."), dns.TypeA, 300, nil, testNow)) != 0 {
		t.Errorf("an empty set was signed")
	}
	if s.Stats().SignErrors != 2 {
		t.Errorf("sign errors %d, want 2", s.Stats().SignErrors)
	}
}

// Signatures are made again once past Refresh, static ones included; the
// window is inception now-1h, expiration now+Validity less a jitter.
func TestRefresh(t *testing.T) {
	k := newKey(t, "example.org.", dns.ECDSAP256SHA256, 257)
	opt := Options{Validity: 10 * 24 * time.Hour, Refresh: 4 * 24 * time.Hour}
	s, z := newTestSigner(t, cskState(k), opt)
	zs := s.Zone(z)
	if want := testNow.Add(opt.Refresh); !s.Next().Equal(want) {
		t.Errorf("Next %v, want %v", s.Next(), want)
	}
	a := rdataOf(t, "x. A 192.0.2.10")
	owner := wire(t, "geo.example.org.")
	for _, sigs := range [][][]byte{zs.Sigs(owner, dns.TypeA, 300, a, testNow), zs.StaticSigs(z.SOA, testNow)} {
		sig := unpackSig(t, "example.org.", 300, sigs[0])
		if int64(sig.Inception) != testNow.Add(-time.Hour).Unix() {
			t.Errorf("inception %d, want now-1h", sig.Inception)
		}
		exp := time.Unix(int64(sig.Expiration), 0)
		if latest := testNow.Add(opt.Validity); exp.After(latest) || exp.Before(latest.Add(-maxJitter)) {
			t.Errorf("expiration %v, want within %v of %v", exp, maxJitter, latest)
		}
	}
	later := testNow.Add(opt.Refresh)
	for _, sigs := range [][][]byte{zs.Sigs(owner, dns.TypeA, 300, a, later), zs.StaticSigs(z.SOA, later)} {
		if sig := unpackSig(t, "example.org.", 300, sigs[0]); int64(sig.Inception) != later.Add(-time.Hour).Unix() {
			t.Errorf("past refresh: inception %v, want a new signature", time.Unix(int64(sig.Inception), 0))
		}
	}
}

// A zone whose keys do not sign is served unsigned; Next is its first
// key event; a key that cannot sign is refused with its file named.
func TestZonesWithoutSigningKeys(t *testing.T) {
	set := loadZone(t, "example.org", testZone)
	z := set.Zone("example.org.")
	event := testNow.Add(time.Hour)
	k := newKey(t, "example.org.", dns.ECDSAP256SHA256, 257)
	s, err := newSigner(set, map[string]keys.State{"example.org.": {DNSKEY: []*dns.DNSKEY{k.DNSKEY}, Next: event}}, Options{}, testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	if zs := s.Zone(z); zs != nil {
		t.Errorf("Zone = %v, want an untyped nil", zs)
	}
	if !s.Next().Equal(event) {
		t.Errorf("Next %v, want %v", s.Next(), event)
	}
	if zs := (*Signer)(nil).Zone(z); zs != nil {
		t.Errorf("a nil Signer's Zone = %v", zs)
	}

	rsa := newKey(t, "example.org.", dns.RSASHA256, 257)
	_, err = newSigner(set, map[string]keys.State{"example.org.": cskState(rsa)}, Options{}, testNow, nil)
	if err == nil || !strings.Contains(err.Error(), rsa.File) || !strings.Contains(err.Error(), "RSASHA256") {
		t.Errorf("RSA key: error %v, want one naming %s and the algorithm", err, rsa.File)
	}
	_, err = New(set, nil, Options{Validity: time.Hour, Refresh: 2 * time.Hour}, testNow, nil)
	if err == nil || !strings.Contains(err.Error(), "refresh") {
		t.Errorf("refresh past validity: error %v", err)
	}
}

// New asks the keys for their state at now.
func TestNewUsesKeyState(t *testing.T) {
	set := loadZone(t, "example.org", testZone)
	k := newKey(t, "example.org.", dns.ED25519, 257)
	s, err := New(set, map[string]*keys.ZoneKeys{"example.org.": {Zone: "example.org.", Keys: []*keys.Key{k}}}, Options{}, testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	zs := s.Zone(set.Zone("example.org."))
	if zs == nil {
		t.Fatal("zone with an active key not signed")
	}
	dnskey, _, _ := zs.Apex()
	verify(t, zs.StaticSigs(dnskey, testNow), "example.org.", dns.TypeDNSKEY, DefaultDNSKEYTTL, dnskey.RData, k)
	if st := s.Stats(); st.Zones != 1 || st.StaticSets == 0 || st.Signatures != uint64(st.StaticSets) {
		t.Errorf("stats %+v", st)
	}
}

// The cache never holds more than its bound.
func TestCacheBound(t *testing.T) {
	k := newKey(t, "example.org.", dns.ED25519, 257)
	s, z := newTestSigner(t, cskState(k), Options{CacheEntries: 2 * cacheShards})
	zs := s.Zone(z)
	for i := range 1000 {
		rd := [][]byte{{10, 0, byte(i >> 8), byte(i)}}
		if zs.Sigs(wire(t, "geo.example.org."), dns.TypeA, 300, rd, testNow) == nil {
			t.Fatal("not signed")
		}
	}
	st := s.Stats()
	if st.CacheEntries > 2*cacheShards || st.CacheEvictions == 0 || st.CacheEntries+int(st.CacheEvictions) != 1000 {
		t.Errorf("stats %+v: want at most %d entries", st, 2*cacheShards)
	}
}

// A hit, dynamic or static, allocates nothing.
func TestHitsDoNotAllocate(t *testing.T) {
	k := newKey(t, "example.org.", dns.ECDSAP256SHA256, 257)
	s, z := newTestSigner(t, cskState(k), Options{})
	zs := s.Zone(z)
	owner := wire(t, "geo.example.org.")
	a := rdataOf(t, "x. A 192.0.2.10", "x. A 192.0.2.11")
	zs.Sigs(owner, dns.TypeA, 300, a, testNow)
	if n := testing.AllocsPerRun(100, func() { zs.Sigs(owner, dns.TypeA, 300, a, testNow) }); n != 0 {
		t.Errorf("Sigs hit: %v allocations", n)
	}
	// A set whose key does not fit on the stack.
	var big [][]byte
	for i := range 40 {
		big = append(big, []byte{0x20, 1, 0xd, 0xb8, 15: byte(i)})
	}
	verify(t, zs.Sigs(owner, dns.TypeAAAA, 300, big, testNow), "geo.example.org.", dns.TypeAAAA, 300, big, k)
	if keyLen(owner, big) <= stackKey {
		t.Fatalf("the big set fits on the stack")
	}
	if n := testing.AllocsPerRun(100, func() { zs.Sigs(owner, dns.TypeAAAA, 300, big, testNow) }); n != 0 {
		t.Errorf("Sigs hit on a big set: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { zs.StaticSigs(z.SOA, testNow) }); n != 0 {
		t.Errorf("StaticSigs: %v allocations", n)
	}
}

func TestCanonicalRData(t *testing.T) {
	for _, tc := range []struct{ rr, want string }{
		{"x. MX 10 MAIL.Example.ORG.", "x. MX 10 mail.example.org."},
		{"x. SRV 1 2 3 Target.Example.", "x. SRV 1 2 3 target.example."},
		{"x. SOA NS.A. Host.A. 1 2 3 4 5", "x. SOA ns.a. host.a. 1 2 3 4 5"},
		{`x. NAPTR 100 10 "S" "SIP+D2U" "" _Sip._UDP.Example.`, `x. NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.example.`},
		{"x. RP Mbox.A. TXT.A.", "x. RP mbox.a. txt.a."},
		{`x. TXT "Keep Case"`, `x. TXT "Keep Case"`},
		{"x. NSEC Next.Example. A RRSIG", "x. NSEC Next.Example. A RRSIG"}, // RFC 6840 §5.1
	} {
		in, want := rdataOf(t, tc.rr)[0], rdataOf(t, tc.want)[0]
		got, err := canonicalRData(dns.StringToType[strings.Fields(tc.rr)[1]], in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %q, %v; want %q", tc.rr, got, err, want)
		}
	}
	if _, err := canonicalRData(dns.TypeCNAME, []byte{0xc0, 12}); err == nil {
		t.Errorf("a compressed name was accepted")
	}
}

// Concurrent hits and misses on shared and distinct sets all get valid
// signatures, each set signed once (run with -race).
func TestSigsConcurrent(t *testing.T) {
	k := newKey(t, "example.org.", dns.ED25519, 257)
	s, z := newTestSigner(t, cskState(k), Options{Workers: 2})
	zs := s.Zone(z)
	before := s.Stats().Signatures
	owner := wire(t, "geo.example.org.")
	results := make([][][]byte, 8*50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				rd := [][]byte{{10, 0, 0, byte(i % 10)}}
				results[g*50+i] = zs.Sigs(owner, dns.TypeA, 300, rd, testNow)
			}
		})
	}
	wg.Wait()
	if made := s.Stats().Signatures - before; made != 10 {
		t.Errorf("%d signatures made for 10 distinct sets", made)
	}
	for j, sigs := range results {
		verify(t, sigs, "geo.example.org.", dns.TypeA, 300, [][]byte{{10, 0, 0, byte(j % 50 % 10)}}, k)
	}
}
