package dnsserver

import (
	"net"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

func testSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	set, err := zones.LoadDir("../zones/testdata/good", nil)
	if err != nil {
		t.Fatal(err)
	}
	return (&Snapshot{Zones: set, NSID: []byte("ns-test"), Chaos: "geotraffic", TCPIdleTimeout: 10 * time.Second}).Prepare()
}

// exchange runs one query through the answer path and unpacks the reply.
func exchange(t testing.TB, snap *Snapshot, q *dns.Msg, tcp bool) *dns.Msg {
	t.Helper()
	p, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return exchangeRaw(t, snap, p, tcp)
}

func exchangeRaw(t testing.TB, snap *Snapshot, p []byte, tcp bool) *dns.Msg {
	t.Helper()
	wk := newWorker(new(Stats))
	out := wk.answer(snap, p, netip.MustParseAddr("192.0.2.1"), tcp, make([]byte, 0, 65537))
	if out == nil {
		return nil
	}
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil {
		t.Fatalf("reply does not unpack: %v", err)
	}
	return m
}

func rrStrings(rrs []dns.RR) string {
	var s []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		s = append(s, strings.Join(strings.Fields(rr.String()), " "))
	}
	sort.Strings(s)
	return strings.Join(s, " | ")
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	return m
}

func TestAnswers(t *testing.T) {
	snap := testSnapshot(t)
	soa := "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 2026112101 7200 1800 1209600 300"
	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		aa     bool
		answer string
		ns     string
		extra  string
	}{
		{"A, no authority (minimal)", "www.example.org.", dns.TypeA, 0, true,
			"www.example.org. 3600 IN A 192.0.2.80 | www.example.org. 3600 IN A 192.0.2.81", "", ""},
		{"case echoed, lowercased lookup", "WwW.ExAmPlE.oRg.", dns.TypeAAAA, 0, true,
			"WwW.ExAmPlE.oRg. 3600 IN AAAA 2001:db8::80", "", ""},
		{"MX with additional", "example.org.", dns.TypeMX, 0, true,
			"example.org. 3600 IN MX 10 mail.example.org.", "", "mail.example.org. 3600 IN A 192.0.2.25"},
		{"NS with in-zone glue only", "example.org.", dns.TypeNS, 0, true,
			"example.org. 3600 IN NS ns1.example.org. | example.org. 3600 IN NS ns2.example.net.", "",
			"ns1.example.org. 3600 IN A 192.0.2.53 | ns1.example.org. 3600 IN AAAA 2001:db8::53"},
		{"SRV with additional", "_sip._tcp.example.org.", dns.TypeSRV, 0, true,
			"_sip._tcp.example.org. 3600 IN SRV 10 60 5060 sip.example.org.", "", "sip.example.org. 3600 IN A 192.0.2.60"},
		{"NODATA", "www.example.org.", dns.TypeMX, 0, true, "", soa, ""},
		{"NXDOMAIN", "nope.example.org.", dns.TypeA, 3, true, "", soa, ""},
		{"empty non-terminal is NODATA", "b.ent.example.org.", dns.TypeA, 0, true, "", soa, ""},
		{"ANY at an empty non-terminal is HINFO, as gdnsd", "b.ent.example.org.", dns.TypeANY, 0, true, "b.ent.example.org. 3600 IN HINFO \"RFC8482\" \"\"", "", ""},
		{"ENT higher up is NODATA", "ent.example.org.", dns.TypeA, 0, true, "", soa, ""},
		{"below ENT leaf is NXDOMAIN", "x.a.b.ent.example.org.", dns.TypeA, 3, true, "", soa, ""},
		{"CNAME followed in zone", "alias.example.org.", dns.TypeA, 0, true,
			"alias.example.org. 3600 IN CNAME www.example.org. | www.example.org. 3600 IN A 192.0.2.80 | www.example.org. 3600 IN A 192.0.2.81", "", ""},
		{"CNAME chain", "chain1.example.org.", dns.TypeAAAA, 0, true,
			"chain1.example.org. 3600 IN CNAME chain2.example.org. | chain2.example.org. 3600 IN CNAME www.example.org. | www.example.org. 3600 IN AAAA 2001:db8::80", "", ""},
		{"CNAME query returns the CNAME", "alias.example.org.", dns.TypeCNAME, 0, true,
			"alias.example.org. 3600 IN CNAME www.example.org.", "", ""},
		{"CNAME out of zone stops", "outside.example.org.", dns.TypeA, 0, true,
			"outside.example.org. 3600 IN CNAME www.example.net.", "", ""},
		{"CNAME loop is safe", "loop1.example.org.", dns.TypeA, 0, true,
			"loop1.example.org. 3600 IN CNAME loop2.example.org. | loop2.example.org. 3600 IN CNAME loop1.example.org.", "", ""},
		{"dangling CNAME is NXDOMAIN", "dangling.example.org.", dns.TypeA, 3, true,
			"dangling.example.org. 3600 IN CNAME nothere.example.org.", soa, ""},
		{"wildcard synthesis", "foo.wild.example.org.", dns.TypeA, 0, true,
			"foo.wild.example.org. 3600 IN A 192.0.2.99", "", ""},
		{"wildcard deeper", "a.b.wild.example.org.", dns.TypeTXT, 0, true,
			"a.b.wild.example.org. 3600 IN TXT \"wildcard\"", "", ""},
		{"wildcard NODATA", "foo.wild.example.org.", dns.TypeAAAA, 0, true, "", soa, ""},
		{"no synthesis at existing name", "exists.wild.example.org.", dns.TypeA, 0, true, "", soa, ""},
		{"no synthesis below existing name", "x.exists.wild.example.org.", dns.TypeA, 3, true, "", soa, ""},
		{"referral", "www.child.example.org.", dns.TypeA, 0, false, "",
			"child.example.org. 3600 IN NS ns.child.example.org.", "ns.child.example.org. 3600 IN A 192.0.2.200"},
		{"referral at the cut", "child.example.org.", dns.TypeA, 0, false, "",
			"child.example.org. 3600 IN NS ns.child.example.org.", "ns.child.example.org. 3600 IN A 192.0.2.200"},
		{"DS answered at the parent", "child.example.org.", dns.TypeDS, 0, true,
			"child.example.org. 3600 IN DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "", ""},
		{"child zone wins", "www.sub.example.org.", dns.TypeA, 0, true, "www.sub.example.org. 600 IN A 192.0.2.180", "", ""},
		{"child zone NXDOMAIN uses its SOA", "x.sub.example.org.", dns.TypeA, 3, true, "",
			"sub.example.org. 60 IN SOA ns1.sub.example.org. hostmaster.example.org. 1 7200 1800 1209600 60", ""},
		{"outside every zone: REFUSED", "www.example.com.", dns.TypeA, 5, false, "", "", ""},
		{"ANY is minimal (RFC 8482)", "www.example.org.", dns.TypeANY, 0, true, "www.example.org. 3600 IN HINFO \"RFC8482\" \"\"", "", ""},
		{"AXFR not implemented", "example.org.", dns.TypeAXFR, 4, false, "", "", ""},
		{"IXFR not implemented", "example.org.", dns.TypeIXFR, 4, false, "", "", ""},
		{"included file", "included.example.org.", dns.TypeA, 0, true, "included.example.org. 3600 IN A 192.0.2.111", "", ""},
		{"CAA", "example.org.", dns.TypeCAA, 0, true, "example.org. 3600 IN CAA 0 issue \"letsencrypt.org\"", "", ""},
		{"PTR", "rev.example.org.", dns.TypePTR, 0, true, "rev.example.org. 3600 IN PTR www.example.org.", "", ""},
		{"RFC 3597 type", "unknown.example.org.", 65280, 0, true, "unknown.example.org. 3600 CLASS1 TYPE65280 \\# 4 0a000001", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exchange(t, snap, query(tt.qname, tt.qtype), false)
			if r.Rcode != tt.rcode || r.Authoritative != tt.aa {
				t.Fatalf("rcode=%d aa=%v, want %d %v\n%v", r.Rcode, r.Authoritative, tt.rcode, tt.aa, r)
			}
			if r.RecursionAvailable {
				t.Error("RA must never be set")
			}
			if len(r.Question) != 1 || r.Question[0].Name != tt.qname {
				t.Errorf("question = %v", r.Question)
			}
			if got := rrStrings(r.Answer); got != tt.answer {
				t.Errorf("answer:\n got %s\nwant %s", got, tt.answer)
			}
			if got := rrStrings(r.Ns); got != tt.ns {
				t.Errorf("authority:\n got %s\nwant %s", got, tt.ns)
			}
			if got := rrStrings(r.Extra); got != tt.extra {
				t.Errorf("additional:\n got %s\nwant %s", got, tt.extra)
			}
		})
	}
}

func TestHeaderRules(t *testing.T) {
	snap := testSnapshot(t)
	q := query("www.example.org.", dns.TypeA)
	q.RecursionDesired = true
	q.CheckingDisabled = true
	r := exchange(t, snap, q, false)
	if !r.RecursionDesired || !r.CheckingDisabled || r.RecursionAvailable || r.Id != q.Id {
		t.Fatalf("RD/CD must be copied, RA never set, ID echoed: %v", r.MsgHdr)
	}

	// QR set: dropped.
	q.Response = true
	p, _ := q.Pack()
	if exchangeRaw(t, snap, p, false) != nil {
		t.Fatal("a packet with QR set must be dropped")
	}
	// Too short for a header: dropped.
	if exchangeRaw(t, snap, []byte{1, 2, 3}, false) != nil {
		t.Fatal("a runt must be dropped")
	}
	// QDCOUNT 0 and 2: FORMERR.
	for _, n := range []int{0, 2} {
		q := query("www.example.org.", dns.TypeA)
		q.Question = nil
		for i := 0; i < n; i++ {
			q.Question = append(q.Question, dns.Question{Name: "www.example.org.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
		}
		if r := exchange(t, snap, q, false); r.Rcode != dns.RcodeFormatError {
			t.Errorf("QDCOUNT %d: rcode %d", n, r.Rcode)
		}
	}
	// Truncated question: FORMERR.
	p, _ = query("www.example.org.", dns.TypeA).Pack()
	if r := exchangeRaw(t, snap, p[:20], false); r == nil || r.Rcode != dns.RcodeFormatError {
		t.Errorf("truncated question: %v", r)
	}
	// Opcodes other than QUERY: NOTIMP.
	n := query("example.org.", dns.TypeSOA)
	n.Opcode = dns.OpcodeNotify
	if r := exchange(t, snap, n, false); r.Rcode != dns.RcodeNotImplemented || r.Opcode != dns.OpcodeNotify {
		t.Errorf("NOTIFY: %v", r)
	}
	u := query("example.org.", dns.TypeSOA)
	u.Opcode = dns.OpcodeUpdate
	if r := exchange(t, snap, u, false); r.Rcode != dns.RcodeNotImplemented {
		t.Errorf("UPDATE: %v", r)
	}
	// Other classes: REFUSED.
	hs := query("www.example.org.", dns.TypeA)
	hs.Question[0].Qclass = dns.ClassHESIOD
	if r := exchange(t, snap, hs, false); r.Rcode != dns.RcodeRefused || r.Authoritative {
		t.Errorf("HS class: %v", r)
	}
}

func TestChaos(t *testing.T) {
	snap := testSnapshot(t)
	q := query("version.bind.", dns.TypeTXT)
	q.Question[0].Qclass = dns.ClassCHAOS
	r := exchange(t, snap, q, false)
	if r.Rcode != 0 || r.Authoritative || rrStrings(r.Answer) != "version.bind. 0 CH TXT \"geotraffic\"" {
		t.Fatalf("chaos: %v", r)
	}
	snap.chaosRData = nil
	if r := exchange(t, snap, q, false); r.Rcode != dns.RcodeRefused {
		t.Fatalf("chaos off must be REFUSED: %v", r)
	}
}

func TestEDNS(t *testing.T) {
	snap := testSnapshot(t)
	q := query("www.example.org.", dns.TypeA)
	q.SetEdns0(4096, true)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	r := exchange(t, snap, q, false)
	opt := r.IsEdns0()
	if opt == nil || opt.UDPSize() != 1232 || !opt.Do() || opt.Version() != 0 {
		t.Fatalf("OPT = %v", opt)
	}
	if len(opt.Option) != 1 || opt.Option[0].(*dns.EDNS0_NSID).Nsid != "6e732d74657374" {
		t.Fatalf("NSID: %v", opt.Option)
	}
	// No EDNS in: none out.
	if r := exchange(t, snap, query("www.example.org.", dns.TypeA), false); r.IsEdns0() != nil {
		t.Fatal("OPT without EDNS in the query")
	}
	// Version 1: BADVERS.
	q = query("www.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().SetVersion(1)
	r = exchange(t, snap, q, false)
	if r.Rcode != dns.RcodeBadVers || len(r.Answer) != 0 {
		t.Fatalf("BADVERS: rcode %d", r.Rcode)
	}
	// Two OPT records: FORMERR.
	q = query("www.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.Extra = append(q.Extra, q.Extra[0])
	if r := exchange(t, snap, q, false); r.Rcode != dns.RcodeFormatError || r.IsEdns0() != nil {
		t.Fatalf("two OPTs: rcode %d, OPT %v (want FORMERR without OPT)", r.Rcode, r.IsEdns0())
	}
}

// gdnsd 3's answers: no CNAME chasing (experimental_no_chain) and no
// additional addresses outside referrals, what import-gdnsd configures.
func TestGdnsdAnswerOptions(t *testing.T) {
	set, err := zones.Load("../zones/testdata/good", nil, zones.Options{NoCNAMEChain: true, NoAdditional: true})
	if err != nil {
		t.Fatal(err)
	}
	snap := (&Snapshot{Zones: set}).Prepare()
	tests := []struct {
		name, qname   string
		qtype         uint16
		rcode         int
		answer, extra string
	}{
		{"CNAME not followed", "alias.example.org.", dns.TypeA, 0, "alias.example.org. 3600 IN CNAME www.example.org.", ""},
		{"dangling CNAME is NOERROR", "dangling.example.org.", dns.TypeA, 0, "dangling.example.org. 3600 IN CNAME nothere.example.org.", ""},
		{"MX without additional", "example.org.", dns.TypeMX, 0, "example.org. 3600 IN MX 10 mail.example.org.", ""},
		{"referral keeps its glue", "www.child.example.org.", dns.TypeA, 0, "", "ns.child.example.org. 3600 IN A 192.0.2.200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exchange(t, snap, query(tt.qname, tt.qtype), false)
			if r.Rcode != tt.rcode || rrStrings(r.Answer) != tt.answer || rrStrings(r.Extra) != tt.extra {
				t.Fatalf("rcode %d answer %s extra %s; want %d, %s, %s", r.Rcode, rrStrings(r.Answer), rrStrings(r.Extra), tt.rcode, tt.answer, tt.extra)
			}
			if len(r.Ns) > 0 && tt.extra == "" {
				t.Fatalf("authority %s, want none", rrStrings(r.Ns))
			}
		})
	}
}

func TestQueryClassANYAnsweredAsIN(t *testing.T) {
	snap := testSnapshot(t)
	q := query("www.example.org.", dns.TypeA)
	q.Question[0].Qclass = dns.ClassANY
	r := exchange(t, snap, q, false)
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) == 0 {
		t.Fatalf("QCLASS *: rcode %d, AA %v, %d answers; want the IN answer", r.Rcode, r.Authoritative, len(r.Answer))
	}
	if r.Question[0].Qclass != dns.ClassANY || r.Answer[0].Header().Class != dns.ClassINET {
		t.Fatalf("question class %d, answer class %d; want * echoed and IN data", r.Question[0].Qclass, r.Answer[0].Header().Class)
	}
}

func TestTCPKeepalive(t *testing.T) {
	snap := testSnapshot(t)
	q := query("www.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE})
	r := exchange(t, snap, q, true)
	var ka *dns.EDNS0_TCP_KEEPALIVE
	for _, o := range r.IsEdns0().Option {
		if k, ok := o.(*dns.EDNS0_TCP_KEEPALIVE); ok {
			ka = k
		}
	}
	if ka == nil || ka.Timeout != 100 {
		t.Fatalf("keepalive = %+v, want 100 (10 s in 100 ms units)", ka)
	}
	if r := exchange(t, snap, q, false); len(r.IsEdns0().Option) != 0 {
		t.Fatal("keepalive is a TCP-only option")
	}
}

func TestTruncation(t *testing.T) {
	snap := testSnapshot(t)
	// Six 100-byte TXT records do not fit in 512 bytes.
	r := exchange(t, snap, query("big.example.org.", dns.TypeTXT), false)
	if !r.Truncated || len(r.Answer) != 0 || len(r.Question) != 1 {
		t.Fatalf("want TC with no records: tc=%v answers=%d", r.Truncated, len(r.Answer))
	}
	// With EDNS 1232 they fit.
	q := query("big.example.org.", dns.TypeTXT)
	q.SetEdns0(4096, false)
	if r := exchange(t, snap, q, false); r.Truncated || len(r.Answer) != 6 {
		t.Fatalf("EDNS: tc=%v answers=%d", r.Truncated, len(r.Answer))
	}
	// Client size below 512 counts as 512.
	q.IsEdns0().SetUDPSize(100)
	if r := exchange(t, snap, q, false); !r.Truncated {
		t.Fatal("EDNS 100 must be treated as 512 and truncate")
	}
	// Over TCP everything fits.
	if r := exchange(t, snap, query("big.example.org.", dns.TypeTXT), true); r.Truncated || len(r.Answer) != 6 {
		t.Fatal("TCP must not truncate")
	}
}

func TestReplyIsCompressed(t *testing.T) {
	snap := testSnapshot(t)
	q := query("www.example.org.", dns.TypeA)
	p, _ := q.Pack()
	wk := newWorker(new(Stats))
	out := wk.answer(snap, p, netip.MustParseAddr("192.0.2.1"), false, make([]byte, 0, 65537))
	// header 12 + question 21 + 2 answers of (2 ptr + 10 + 4) = 65
	if len(out) != 65 {
		t.Fatalf("reply is %d bytes, want 65 (owner names compressed to the question)", len(out))
	}
	_ = net.IPv4len
}
