package dnsserver

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// signedSnapshot serves the test zones with example.org. and signed.test.
// signed (sub.example.org. is not), and the fake geo backend.
func signedSnapshot(t testing.TB) (*Snapshot, testDNSSEC) {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile("../zones/testdata/good/example.org")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"example.org": strings.Replace(string(src), "$INCLUDE inc/hosts.inc\n", "", 1) +
			"sub IN NS ns1.sub\nsub IN DS 54321 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n",
		"sub.example.org":  "$TTL 600\n@ IN SOA ns1 hostmaster.example.org. 1 7200 1800 1209600 60\n@ IN NS ns1\nns1 IN A 192.0.2.181\nwww IN A 192.0.2.180\n",
		"sub2.example.org": "$TTL 600\n@ IN SOA ns1 hostmaster.example.org. 1 7200 1800 1209600 60\n@ IN NS ns1\nns1 IN A 192.0.2.182\n",
		"signed.test": `$TTL 300
@ IN SOA ns1 hm 1 2 3 4 60
@ IN NS ns1
ns1 IN A 192.0.2.1
www 300/60 IN DYNA geoip!addrs
www IN MX 10 ns1
v4 300 IN DYNA geoip!v4only
lb 300 IN DYNC geoip!cname
*.wild 300 IN DYNA geoip!addrs
*.wc IN CNAME www
insecure IN NS ns.insecure
ns.insecure IN A 192.0.2.9
`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := zones.LoadDir(dir, okChecker{})
	if err != nil {
		t.Fatal(err)
	}
	d := testDNSSEC{}
	for _, name := range []string{"example.org.", "signed.test.", "sub2.example.org."} {
		z := set.FindZone(wire(t, name))
		d[z] = newTestSigner(t, z)
	}
	return (&Snapshot{Zones: set, Dyn: newFakeGeo(), DNSSEC: d}).Prepare(), d
}

func wire(t testing.TB, name string) []byte {
	t.Helper()
	b := make([]byte, 256)
	n, err := dns.PackDomainName(name, b, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

func doQuery(name string, qtype uint16) *dns.Msg {
	q := query(name, qtype)
	q.SetEdns0(1232, true)
	return q
}

func coQuery(name string, qtype uint16) *dns.Msg {
	q := doQuery(name, qtype)
	q.IsEdns0().SetCo()
	return q
}

// sectionTypes lists a section's record types in order.
func sectionTypes(rrs []dns.RR) string {
	var s []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			s = append(s, dns.TypeToString[rr.Header().Rrtype])
		}
	}
	return strings.Join(s, " ")
}

// nsecOf prints the one NSEC of rrs as "owner next types", or "".
func nsecOf(rrs []dns.RR) string {
	for _, rr := range rrs {
		if n, ok := rr.(*dns.NSEC); ok {
			s := []string{n.Hdr.Name, n.NextDomain}
			for _, t := range n.TypeBitMap {
				s = append(s, dns.Type(t).String())
			}
			return strings.Join(s, " ")
		}
	}
	return ""
}

// verifySigned checks that every RRset in rrs is followed by RRSIGs that
// miekg/dns verifies with key and finds valid now, with the set's TTL and
// the labels of its owner (the query name for a wildcard expansion), and
// that no RRSIG is left over. unsigned names the types that must not be
// signed (a referral's NS).
func verifySigned(t *testing.T, section string, rrs []dns.RR, key *dns.DNSKEY, unsigned uint16) {
	t.Helper()
	for i := 0; i < len(rrs); {
		h := rrs[i].Header()
		if h.Rrtype == dns.TypeRRSIG {
			t.Errorf("%s: RRSIG without its set: %v", section, rrs[i])
			i++
			continue
		}
		j := i
		for j < len(rrs) && rrs[j].Header().Rrtype == h.Rrtype && strings.EqualFold(rrs[j].Header().Name, h.Name) {
			j++
		}
		set := rrs[i:j]
		k := j
		for k < len(rrs) && rrs[k].Header().Rrtype == dns.TypeRRSIG && strings.EqualFold(rrs[k].Header().Name, h.Name) {
			k++
		}
		sigs := rrs[j:k]
		i = k
		if h.Rrtype == unsigned {
			if len(sigs) > 0 {
				t.Errorf("%s: %s %s is signed, want unsigned", section, h.Name, dns.TypeToString[h.Rrtype])
			}
			continue
		}
		if len(sigs) == 0 {
			t.Errorf("%s: %s %s has no RRSIG", section, h.Name, dns.TypeToString[h.Rrtype])
			continue
		}
		for _, s := range sigs {
			sig := s.(*dns.RRSIG)
			if sig.TypeCovered != h.Rrtype || sig.Hdr.Ttl != h.Ttl || sig.OrigTtl != h.Ttl {
				t.Errorf("%s: %v does not match its set (%s TTL %d)", section, sig, dns.TypeToString[h.Rrtype], h.Ttl)
			}
			labels := dns.CountLabel(h.Name)
			if strings.HasPrefix(h.Name, "*") {
				// A wildcard's own owner (RFC 4034 §3.1.3); miekg/dns's
				// Sign counts any label starting with '*' as one.
				labels--
			}
			if int(sig.Labels) != labels {
				t.Errorf("%s: %v has %d labels, want %d", section, sig, sig.Labels, labels)
			}
			if err := sig.Verify(key, set); err != nil {
				t.Errorf("%s: %s %s: %v", section, h.Name, dns.TypeToString[h.Rrtype], err)
			}
			if !sig.ValidityPeriod(time.Now()) {
				t.Errorf("%s: %v is not valid now", section, sig)
			}
		}
	}
}

func TestSignedAnswers(t *testing.T) {
	snap, keys := signedSnapshot(t)
	tests := []struct {
		name         string
		q            *dns.Msg
		rcode        int
		aa           bool
		answer, auth string // record types in order
		nsec         string // the NSEC: owner next types
		unsigned     uint16 // type that must not be signed
	}{
		{"static A", doQuery("www.example.org.", dns.TypeA), 0, true, "A A RRSIG", "", "", 0},
		{"case kept, signed lowercase", doQuery("WWW.Example.ORG.", dns.TypeA), 0, true, "A A RRSIG", "", "", 0},
		{"MX with in-zone target, additional unsigned", doQuery("example.org.", dns.TypeMX), 0, true, "MX RRSIG", "", "", 0},
		{"CNAME chain: each set signed", doQuery("chain1.example.org.", dns.TypeAAAA), 0, true,
			"CNAME RRSIG CNAME RRSIG AAAA RRSIG", "", "", 0},
		{"wildcard signed at the query name", doQuery("foo.wild.example.org.", dns.TypeA), 0, true, "A RRSIG", "", "", 0},
		{"wildcard two labels deep", doQuery("a.b.wild.example.org.", dns.TypeTXT), 0, true, "TXT RRSIG", "", "", 0},
		{"wildcard NODATA: the wildcard's types", doQuery("foo.wild.example.org.", dns.TypeAAAA), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "foo.wild.example.org. \\000.foo.wild.example.org. A TXT RRSIG NSEC", 0},
		{"NXDOMAIN is compact NODATA without CO", doQuery("nope.example.org.", dns.TypeA), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "nope.example.org. \\000.nope.example.org. RRSIG NSEC NXNAME", 0},
		{"NXDOMAIN restored with CO", coQuery("nope.example.org.", dns.TypeA), 3, true, "",
			"SOA RRSIG NSEC RRSIG", "nope.example.org. \\000.nope.example.org. RRSIG NSEC NXNAME", 0},
		{"NODATA: the types there, not the one asked", doQuery("www.example.org.", dns.TypeMX), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "www.example.org. \\000.www.example.org. A AAAA RRSIG NSEC", 0},
		{"empty non-terminal", doQuery("ent.example.org.", dns.TypeA), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "ent.example.org. \\000.ent.example.org. RRSIG NSEC", 0},
		{"dangling CNAME: denial for the target", doQuery("dangling.example.org.", dns.TypeA), 0, true, "CNAME RRSIG",
			"SOA RRSIG NSEC RRSIG", "nothere.example.org. \\000.nothere.example.org. RRSIG NSEC NXNAME", 0},
		{"apex NODATA lists DNSKEY and CDS", doQuery("example.org.", dns.TypeA), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "example.org. \\000.example.org. NS SOA MX TXT RRSIG NSEC DNSKEY CDS CAA", 0},
		{"DS at the apex: NODATA without DS", doQuery("example.org.", dns.TypeDS), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "example.org. \\000.example.org. NS SOA MX TXT RRSIG NSEC DNSKEY CDS CAA", 0},
		{"referral with DS", doQuery("www.child.example.org.", dns.TypeA), 0, false, "", "NS DS RRSIG", "", dns.TypeNS},
		{"DS at a cut, from the parent", doQuery("child.example.org.", dns.TypeDS), 0, true, "DS RRSIG", "", "", 0},
		{"referral without DS: NSEC at the cut", doQuery("www.insecure.signed.test.", dns.TypeA), 0, false, "",
			"NS NSEC RRSIG", "insecure.signed.test. \\000.insecure.signed.test. NS RRSIG NSEC", dns.TypeNS},
		{"referral without DS for an NS query", doQuery("insecure.signed.test.", dns.TypeNS), 0, false, "",
			"NS NSEC RRSIG", "insecure.signed.test. \\000.insecure.signed.test. NS RRSIG NSEC", dns.TypeNS},
		{"DS at an unsigned cut: NODATA", doQuery("insecure.signed.test.", dns.TypeDS), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "insecure.signed.test. \\000.insecure.signed.test. NS RRSIG NSEC", 0},
		{"DNSKEY at the apex", doQuery("example.org.", dns.TypeDNSKEY), 0, true, "DNSKEY RRSIG", "", "", 0},
		{"CDS at the apex", doQuery("example.org.", dns.TypeCDS), 0, true, "CDS RRSIG", "", "", 0},
		{"CDNSKEY not published: NODATA", doQuery("example.org.", dns.TypeCDNSKEY), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "example.org. \\000.example.org. NS SOA MX TXT RRSIG NSEC DNSKEY CDS CAA", 0},
		{"DNSKEY below the apex: NODATA", doQuery("www.example.org.", dns.TypeDNSKEY), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "www.example.org. \\000.www.example.org. A AAAA RRSIG NSEC", 0},
		{"NSEC query answered with the NSEC", doQuery("www.example.org.", dns.TypeNSEC), 0, true, "NSEC RRSIG", "",
			"www.example.org. \\000.www.example.org. A AAAA RRSIG NSEC", 0},
		{"NSEC query at a missing name", coQuery("nope.example.org.", dns.TypeNSEC), 0, true, "NSEC RRSIG", "",
			"nope.example.org. \\000.nope.example.org. RRSIG NSEC NXNAME", 0},
		{"RRSIG query refused", doQuery("www.example.org.", dns.TypeRRSIG), 5, false, "", "", "", 0},
		{"ANY: signed HINFO", doQuery("www.example.org.", dns.TypeANY), 0, true, "HINFO RRSIG", "", "", 0},
		{"DYNA A", doQuery("www.signed.test.", dns.TypeA), 0, true, "A RRSIG", "", "", 0},
		{"DYNA AAAA", doQuery("www.signed.test.", dns.TypeAAAA), 0, true, "AAAA RRSIG", "", "", 0},
		{"DYNA with ECS", withDO(withECS(query("www.signed.test.", dns.TypeA), 1, 24, "203.0.113.0")), 0, true, "A RRSIG", "", "", 0},
		{"DYNA NODATA: A and AAAA and the static types", doQuery("www.signed.test.", dns.TypeTXT), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "www.signed.test. \\000.www.signed.test. A MX AAAA RRSIG NSEC", 0},
		{"DYNA without the family: NODATA without it", doQuery("v4.signed.test.", dns.TypeAAAA), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "v4.signed.test. \\000.v4.signed.test. A RRSIG NSEC", 0},
		{"DYNC CNAME", doQuery("lb.signed.test.", dns.TypeA), 0, true, "CNAME RRSIG", "", "", 0},
		{"wildcard DYNA", doQuery("x.wild.signed.test.", dns.TypeA), 0, true, "A RRSIG", "", "", 0},
		{"wildcard CNAME followed", doQuery("x.wc.signed.test.", dns.TypeAAAA), 0, true, "CNAME RRSIG AAAA RRSIG", "", "", 0},
		{"DS at a served child's apex, from the parent", doQuery("sub.example.org.", dns.TypeDS), 0, true, "DS RRSIG", "", "", 0},
		{"DS at a served child's apex the parent does not delegate", doQuery("sub2.example.org.", dns.TypeDS), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "sub2.example.org. \\000.sub2.example.org. NS SOA RRSIG NSEC DNSKEY CDS", 0},
		{"DS at a signed zone's apex, no parent here", doQuery("signed.test.", dns.TypeDS), 0, true, "",
			"SOA RRSIG NSEC RRSIG", "signed.test. \\000.signed.test. NS SOA RRSIG NSEC DNSKEY CDS", 0},
		{"unsigned zone: no RRSIG", doQuery("www.sub.example.org.", dns.TypeA), 0, true, "A", "", "", 0},
		{"unsigned zone: plain NXDOMAIN", doQuery("x.sub.example.org.", dns.TypeA), 3, true, "", "SOA", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exchange(t, snap, tt.q, false)
			if r.Rcode != tt.rcode || r.Authoritative != tt.aa || r.Truncated {
				t.Fatalf("rcode=%d aa=%v tc=%v, want %d %v false\n%v", r.Rcode, r.Authoritative, r.Truncated, tt.rcode, tt.aa, r)
			}
			if got := sectionTypes(r.Answer); got != tt.answer {
				t.Errorf("answer %q, want %q\n%v", got, tt.answer, r)
			}
			if got := sectionTypes(r.Ns); got != tt.auth {
				t.Errorf("authority %q, want %q\n%v", got, tt.auth, r)
			}
			if got := nsecOf(append(r.Answer, r.Ns...)); got != tt.nsec {
				t.Errorf("NSEC %q, want %q", got, tt.nsec)
			}
			for _, rr := range r.Extra {
				if rr.Header().Rrtype == dns.TypeRRSIG {
					t.Errorf("additional has %v; RRSIGs there are left out", rr)
				}
			}
			opt := r.IsEdns0()
			if opt == nil || !opt.Do() || opt.Co() != tt.q.IsEdns0().Co() {
				t.Errorf("OPT %v: DO and CO must be echoed", opt)
			}
			if len(r.Question) == 1 {
				z := snap.Zones.FindZone(wire(t, strings.ToLower(r.Question[0].Name)))
				if zs := keys[z]; zs != nil {
					verifySigned(t, "answer", r.Answer, zs.key, 0)
					verifySigned(t, "authority", r.Ns, zs.key, tt.unsigned)
				}
			}
		})
	}
}

func withDO(q *dns.Msg) *dns.Msg {
	q.IsEdns0().SetDo()
	return q
}

// The signed zones answer queries without DO exactly as unsigned ones,
// byte for byte, DNSKEY and RRSIG queries excepted.
func TestSignedZoneWithoutDOUnchanged(t *testing.T) {
	signed, _ := signedSnapshot(t)
	plain := *signed
	plain.DNSSEC = nil
	for _, name := range []string{"www.example.org.", "nope.example.org.", "foo.wild.example.org.", "chain1.example.org.",
		"www.child.example.org.", "child.example.org.", "example.org.", "dangling.example.org.", "ent.example.org.",
		"www.signed.test.", "lb.signed.test.", "www.insecure.signed.test.", "x.wild.signed.test."} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeDS, dns.TypeNSEC, dns.TypeANY} {
			for _, edns := range []bool{false, true} {
				q := query(name, qt)
				if edns {
					q.SetEdns0(1232, false)
				}
				p, _ := q.Pack()
				a := NewAnswerer(false).Answer(signed, p, netip.MustParseAddr("192.0.2.1"))
				b := NewAnswerer(false).Answer(&plain, p, netip.MustParseAddr("192.0.2.1"))
				if !bytes.Equal(a, b) {
					t.Errorf("%s %s edns=%v: the signed zone answers differently without DO", name, dns.TypeToString[qt], edns)
				}
			}
		}
	}
	// DNSKEY is answered without DO too, unsigned.
	r := exchange(t, signed, query("example.org.", dns.TypeDNSKEY), false)
	if sectionTypes(r.Answer) != "DNSKEY" || r.Rcode != 0 {
		t.Fatalf("DNSKEY without DO: %v", r)
	}
}

// RFC 9824 §3.5: an explicit NXNAME query is a format error where
// compact answers are given; elsewhere it stays a meta-type (NOTIMP).
func TestNXNAMEQuery(t *testing.T) {
	signed, _ := signedSnapshot(t)
	if r := exchange(t, signed, doQuery("www.example.org.", dns.TypeNXNAME), false); r.Rcode != dns.RcodeFormatError || r.IsEdns0() == nil {
		t.Errorf("signing server: want FORMERR with an OPT (the query's is sound), got\n%v", r)
	}
	plain := *signed
	plain.DNSSEC = nil
	if r := exchange(t, &plain, doQuery("www.example.org.", dns.TypeNXNAME), false); r.Rcode != dns.RcodeNotImplemented {
		t.Errorf("no signing: rcode %d, want NOTIMP", r.Rcode)
	}
}

func TestSignedFailureIsServfail(t *testing.T) {
	snap, keys := signedSnapshot(t)
	for _, zs := range keys {
		zs.fail = true
	}
	for _, q := range []*dns.Msg{doQuery("www.example.org.", dns.TypeA), doQuery("nope.example.org.", dns.TypeA),
		doQuery("www.signed.test.", dns.TypeA), doQuery("www.insecure.signed.test.", dns.TypeA)} {
		r := exchange(t, snap, q, false)
		if r.Rcode != dns.RcodeServerFailure || len(r.Answer)+len(r.Ns)+len(r.Extra) != 1 || r.Authoritative {
			t.Errorf("%s: want SERVFAIL with the OPT only, got\n%v", q.Question[0].Name, r)
		}
	}
	// Without DO nothing needs signing.
	if r := exchange(t, snap, query("www.example.org.", dns.TypeA), false); r.Rcode != 0 || len(r.Answer) != 2 {
		t.Errorf("without DO: %v", r)
	}
}

func TestSignedTruncation(t *testing.T) {
	snap, keys := signedSnapshot(t)
	key := keys[snap.Zones.FindZone(wire(t, "example.org."))].key
	// Six 100-byte TXT records (722 bytes with the OPT) fit in 1232
	// bytes with their RRSIG, not in 780.
	q := doQuery("big.example.org.", dns.TypeTXT)
	q.IsEdns0().SetUDPSize(780)
	r := exchange(t, snap, q, false)
	if !r.Truncated || len(r.Answer)+len(r.Ns) != 0 {
		t.Fatalf("780 bytes: want TC and no records, got %v", r)
	}
	// Unsigned, the same set fits in 780 bytes.
	q.IsEdns0().SetDo(false)
	if r := exchange(t, snap, q, false); r.Truncated {
		t.Fatal("without DO the set fits")
	}
	q = doQuery("big.example.org.", dns.TypeTXT)
	r = exchange(t, snap, q, false)
	if r.Truncated || sectionTypes(r.Answer) != "TXT TXT TXT TXT TXT TXT RRSIG" {
		t.Fatalf("1232 bytes: %v", r)
	}
	verifySigned(t, "answer", r.Answer, key, 0)
	// A denial that does not fit in 512 bytes is truncated whole.
	nx := doQuery("nope.example.org.", dns.TypeA)
	nx.IsEdns0().SetUDPSize(512)
	nx.Question[0].Name = strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + ".nope.example.org."
	if r := exchange(t, snap, nx, false); !r.Truncated || len(r.Ns) != 0 {
		t.Fatalf("long NXDOMAIN in 512 bytes: want TC, got %v", r)
	}
	if r := exchange(t, snap, nx, true); r.Truncated || nsecOf(r.Ns) == "" {
		t.Fatalf("over TCP: %v", r)
	}
}

// The answer cache keeps signed and unsigned replies apart, and compact
// NOERROR apart from the NXDOMAIN a CO query gets.
func TestSignedAnswerCache(t *testing.T) {
	snap, keys := signedSnapshot(t)
	a := NewAnswerer(true)
	ask := func(q *dns.Msg) *dns.Msg {
		p, _ := q.Pack()
		m := new(dns.Msg)
		if err := m.Unpack(a.Answer(snap, p, netip.MustParseAddr("192.0.2.1"))); err != nil {
			t.Fatal(err)
		}
		return m
	}
	plain := query("www.example.org.", dns.TypeA)
	plain.SetEdns0(1232, false)
	for i := 0; i < 2; i++ {
		if r := ask(doQuery("www.example.org.", dns.TypeA)); sectionTypes(r.Answer) != "A A RRSIG" {
			t.Fatalf("DO: %v", r)
		}
		if r := ask(plain); sectionTypes(r.Answer) != "A A" {
			t.Fatalf("no DO after DO: %v", r)
		}
		if r := ask(doQuery("nope.example.org.", dns.TypeA)); r.Rcode != dns.RcodeSuccess || nsecOf(r.Ns) == "" {
			t.Fatalf("DO NXDOMAIN: %v", r)
		}
		if r := ask(coQuery("nope.example.org.", dns.TypeA)); r.Rcode != dns.RcodeNameError || !r.IsEdns0().Co() {
			t.Fatalf("CO NXDOMAIN: %v", r)
		}
	}
	st := a.Stats()
	if st.CacheHits != 4 {
		t.Fatalf("%d cache hits, want 4 (the second round)", st.CacheHits)
	}
	// The compact NXDOMAIN (NOERROR on the wire) counts as the NXDOMAIN it
	// stands for, answered or replayed: 2 compact and 2 CO ones.
	if st.NXDomain != 4 || st.NoError != 4 {
		t.Errorf("counted %d NXDOMAIN and %d NOERROR, want 4 and 4", st.NXDomain, st.NoError)
	}
	made := 0
	for _, zs := range keys {
		made += zs.made
	}
	if made != 3 { // A, SOA, the NSEC (the same for DO and CO), and nothing twice
		t.Fatalf("%d signatures made, want 3", made)
	}
}

// A compact answer says NOERROR, but rate limiting charges it to the
// zone's NXDOMAIN account as the NXDOMAIN it is, so a flood of random
// names (each costing a signature) is limited as one.
func TestRRLCompactNXDOMAIN(t *testing.T) {
	snap, _ := signedSnapshot(t)
	snap.RRL = rrlSnapshot(t, nil).RRL
	for _, cached := range []bool{false, true} {
		a := NewAnswerer(cached)
		a.wk.now = time.Now()
		var got []*dns.Msg
		for _, name := range []string{"a", "b", "c", "d", "a", "b"} {
			q := doQuery(name+".example.org.", dns.TypeA)
			p, _ := q.Pack()
			src := netip.MustParseAddr("192.0.2.1")
			if cached {
				src = netip.MustParseAddr("192.0.2.2")
			}
			b := a.Answer(snap, p, src)
			if b == nil {
				got = append(got, nil)
				continue
			}
			m := new(dns.Msg)
			if err := m.Unpack(b); err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		if full, tc, _ := tally(got); full != 2 || tc != 2 || got[0].Rcode != dns.RcodeSuccess {
			t.Errorf("cached=%v: compact NXDOMAIN for 6 names of one zone: %d full, %d TC; want 2 and 2", cached, full, tc)
		}
	}
}

func TestNSECBitmap(t *testing.T) {
	got := appendTypeBitmap(nil, []uint16{dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNXNAME})
	want := []byte{0, 17, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80}
	if !bytes.Equal(got, want) {
		t.Fatalf("RRSIG NSEC NXNAME: % x, want % x", got, want)
	}
	got = appendTypeBitmap(nil, []uint16{dns.TypeA, dns.TypeCAA, 65280})
	want = []byte{0, 1, 0x40, 1, 1, 0x40, 255, 1, 0x80}
	if !bytes.Equal(got, want) {
		t.Fatalf("A CAA TYPE65280: % x, want % x", got, want)
	}
}

// TestSignedAnswerAllocs pins the no-allocation property of the signed
// path once the signatures are made.
func TestSignedAnswerAllocs(t *testing.T) {
	snap, _ := signedSnapshot(t)
	for _, q := range []*dns.Msg{doQuery("www.example.org.", dns.TypeA), doQuery("nope.example.org.", dns.TypeA),
		doQuery("chain1.example.org.", dns.TypeA), doQuery("www.child.example.org.", dns.TypeA),
		doQuery("foo.wild.example.org.", dns.TypeA), doQuery("www.insecure.signed.test.", dns.TypeA),
		doQuery("example.org.", dns.TypeDNSKEY), doQuery("lb.signed.test.", dns.TypeA),
		withDO(withECS(query("www.signed.test.", dns.TypeA), 1, 24, "203.0.113.0"))} {
		assertNoAllocs(t, snap, q)
	}
}

// Any query to signed zones gets a reply miekg/dns reads, and every RRset
// of a signed reply verifies (NSEC next names included, which must stay
// valid names for the longest query names).
func FuzzSignedAnswer(f *testing.F) {
	snap, keys := signedSnapshot(f)
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." +
		strings.Repeat("d", 49) + ".example.org."
	for _, q := range []*dns.Msg{doQuery("www.example.org.", dns.TypeA), coQuery("nope.example.org.", dns.TypeA),
		doQuery(long, dns.TypeA), doQuery("x.wild.signed.test.", dns.TypeAAAA), doQuery("www.insecure.signed.test.", dns.TypeNS),
		doQuery("example.org.", dns.TypeDNSKEY), doQuery("www.example.org.", dns.TypeNSEC)} {
		p, err := q.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		out := NewAnswerer(false).Answer(snap, p, netip.MustParseAddr("192.0.2.1"))
		if out == nil {
			return
		}
		r := new(dns.Msg)
		if err := r.Unpack(out); err != nil {
			t.Fatalf("reply does not unpack: %v", err)
		}
		if r.Rcode == dns.RcodeServerFailure || r.IsEdns0() == nil || !r.IsEdns0().Do() || len(r.Question) != 1 {
			return
		}
		z := snap.Zones.FindZone(wire(t, strings.ToLower(r.Question[0].Name)))
		if zs := keys[z]; zs != nil && !r.Truncated {
			unsigned := uint16(0)
			if !r.Authoritative {
				unsigned = dns.TypeNS
			}
			verifySigned(t, "answer", r.Answer, zs.key, 0)
			verifySigned(t, "authority", r.Ns, zs.key, unsigned)
		}
	})
}
