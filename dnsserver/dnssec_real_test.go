package dnsserver_test

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/dnssec"
	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// The answer path with package dnssec's signer (the other tests use a
// stand-in): a KSK and a ZSK of both algorithms, every answer kind
// verified by miekg/dns, and no allocation once the signatures are made.
func TestRealSignerAnswers(t *testing.T) {
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) { testRealSigner(t, alg) })
	}
}

func testRealSigner(t *testing.T, alg uint8) {
	set, err := zones.LoadDir("../zones/testdata/good", nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	zk := &keys.ZoneKeys{Zone: "example.org."}
	for _, flags := range []uint16{dns.ZONE | dns.SEP, dns.ZONE} {
		k, err := keys.Generate("example.org.", alg, flags, now.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		zk.Keys = append(zk.Keys, k)
	}
	ksk, zsk := zk.Keys[0].DNSKEY, zk.Keys[1].DNSKEY
	signer, err := dnssec.New(set, map[string]*keys.ZoneKeys{"example.org.": zk}, dnssec.Options{}, now, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	snap := (&dnsserver.Snapshot{Zones: set, DNSSEC: signer}).Prepare()
	a := dnsserver.NewAnswerer(false)
	ask := func(name string, qtype uint16, co bool) *dns.Msg {
		q := new(dns.Msg)
		q.SetQuestion(name, qtype)
		q.SetEdns0(1232, true)
		if co {
			q.IsEdns0().SetCo()
		}
		p, _ := q.Pack()
		r := new(dns.Msg)
		if err := r.Unpack(a.Answer(snap, p, netip.MustParseAddr("192.0.2.1"))); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, c := range []struct {
		name  string
		qtype uint16
		rcode int
	}{
		{"www.example.org.", dns.TypeA, 0}, {"example.org.", dns.TypeMX, 0}, {"chain1.example.org.", dns.TypeAAAA, 0},
		{"foo.wild.example.org.", dns.TypeA, 0}, {"a.b.wild.example.org.", dns.TypeAAAA, 0}, {"nope.example.org.", dns.TypeA, 0},
		{"www.example.org.", dns.TypeMX, 0}, {"ent.example.org.", dns.TypeA, 0}, {"dangling.example.org.", dns.TypeA, 0},
		{"www.child.example.org.", dns.TypeA, 0}, {"child.example.org.", dns.TypeDS, 0}, {"example.org.", dns.TypeDNSKEY, 0},
		{"example.org.", dns.TypeDS, 0}, {"www.example.org.", dns.TypeANY, 0}, {"Www.Example.Org.", dns.TypeNSEC, 0},
		{"*.wild.example.org.", dns.TypeTXT, 0}, {"mail.example.org.", dns.TypeA, 0},
	} {
		r := ask(c.name, c.qtype, false)
		what := c.name + " " + dns.TypeToString[c.qtype]
		if r.Rcode != c.rcode || r.Truncated || len(r.Answer)+len(r.Ns) == 0 {
			t.Errorf("%s: %v", what, r)
			continue
		}
		for _, sec := range [][]dns.RR{r.Answer, r.Ns} {
			checkSigned(t, what, sec, ksk, zsk, !r.Authoritative)
		}
	}
	if r := ask("nope.example.org.", dns.TypeA, true); r.Rcode != dns.RcodeNameError || !r.IsEdns0().Co() {
		t.Errorf("CO: %v", r)
	}
	for _, q := range [][]byte{pack(t, "www.example.org.", dns.TypeA), pack(t, "nope.example.org.", dns.TypeA),
		pack(t, "foo.wild.example.org.", dns.TypeA)} {
		if n := testing.AllocsPerRun(100, func() { a.Answer(snap, q, netip.MustParseAddr("192.0.2.1")) }); n != 0 {
			t.Errorf("%v allocations per signed answer, want 0", n)
		}
	}
}

func pack(t *testing.T, name string, qtype uint16) []byte {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(1232, true)
	p, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkSigned verifies that every RRset of the section has a valid RRSIG
// by the right key: the KSK for DNSKEY, the ZSK for the rest (the NS set of
// a referral is not signed).
func checkSigned(t *testing.T, what string, sec []dns.RR, ksk, zsk *dns.DNSKEY, referral bool) {
	t.Helper()
	sets := map[string][]dns.RR{}
	var order []string
	for _, rr := range sec {
		h := rr.Header()
		if h.Rrtype == dns.TypeRRSIG {
			continue
		}
		k := strings.ToLower(h.Name) + "/" + dns.TypeToString[h.Rrtype]
		if sets[k] == nil {
			order = append(order, k)
		}
		sets[k] = append(sets[k], rr)
	}
	for _, k := range order {
		set := sets[k]
		h := set[0].Header()
		var sig *dns.RRSIG
		for _, rr := range sec {
			if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == h.Rrtype && strings.EqualFold(s.Hdr.Name, h.Name) {
				sig = s
			}
		}
		if referral && h.Rrtype == dns.TypeNS {
			if sig != nil {
				t.Errorf("%s: referral NS signed", what)
			}
			continue
		}
		if sig == nil {
			t.Errorf("%s: %s unsigned", what, k)
			continue
		}
		key := zsk
		if h.Rrtype == dns.TypeDNSKEY {
			key = ksk
		}
		if err := sig.Verify(key, set); err != nil || !sig.ValidityPeriod(time.Now()) || sig.Hdr.Ttl != h.Ttl {
			t.Errorf("%s: %s: %v (TTL %d, set's %d)", what, k, err, sig.Hdr.Ttl, h.Ttl)
		}
	}
}
