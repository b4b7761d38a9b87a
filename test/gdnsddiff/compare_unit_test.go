package gdnsddiffe2e

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// reply builds a reply to name/A from zone-file lines per section.
func reply(t *testing.T, answer, authority []string, opt *dns.OPT) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("en.example.org.", dns.TypeA)
	m.Response, m.Authoritative, m.Id = true, true, 7
	for _, s := range answer {
		m.Answer = append(m.Answer, mustRR(t, s))
	}
	for _, s := range authority {
		m.Ns = append(m.Ns, mustRR(t, s))
	}
	if opt != nil {
		m.Extra = append(m.Extra, opt)
	}
	return m
}

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func ecsOpt(scope uint8) *dns.OPT {
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	o.SetUDPSize(1024)
	o.Option = append(o.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24,
		SourceScope: scope, Address: []byte{192, 0, 2, 0}})
	return o
}

func classes(ms []mismatch) string {
	var c []string
	for _, m := range ms {
		c = append(c, m.Class)
	}
	return strings.Join(c, ",")
}

// plainQuery asked for the replies built here: no CD, no keepalive.
var plainQuery = query{Name: "en.example.org.", Qtype: dns.TypeA, EDNS: true, BufSize: 1232}

var (
	rrA1 = "en.example.org. 600 IN A 192.0.2.1"
	rrA2 = "en.example.org. 600 IN A 192.0.2.2"
	soa  = "example.org. 600 IN SOA ns0.example.org. hostmaster.example.org. 1 43200 7200 1209600 600"
)

func TestCompareIgnoresOrderInsideAndBetweenRRsets(t *testing.T) {
	txt := "en.example.org. 600 IN TXT \"x\""
	a := reply(t, []string{rrA1, rrA2, txt}, []string{soa}, ecsOpt(24))
	b := reply(t, []string{txt, rrA2, rrA1}, []string{soa}, ecsOpt(24))
	if ms := compareMsgs(plainQuery, a, b); len(ms) != 0 {
		t.Fatalf("same RRsets in another order: %v", ms)
	}
}

func TestCompareFindsEachKindOfDifference(t *testing.T) {
	base := func() *dns.Msg { return reply(t, []string{rrA1, rrA2}, []string{soa}, ecsOpt(24)) }
	cases := []struct {
		name   string
		change func(m *dns.Msg)
		want   string
	}{
		{"TTL of one record", func(m *dns.Msg) { m.Answer[1].Header().Ttl = 300 }, "answer/ttl"},
		{"an address", func(m *dns.Msg) { m.Answer[1] = mustRR(t, "en.example.org. 600 IN A 192.0.2.3") }, "answer/rdata"},
		{"a record less", func(m *dns.Msg) { m.Answer = m.Answer[:1] }, "answer/rdata"},
		{"an RRset less", func(m *dns.Msg) { m.Ns = nil }, "authority/missing-rrset"},
		{"an RRset more", func(m *dns.Msg) {
			m.Extra = append([]dns.RR{mustRR(t, "ns0.example.org. 600 IN A 192.0.2.9")}, m.Extra...)
		}, "additional/extra-rrset"},
		{"owner case", func(m *dns.Msg) { m.Answer[0].Header().Name = "EN.example.org." }, "answer/owner-case"},
		{"rcode", func(m *dns.Msg) { m.Rcode = dns.RcodeNameError }, "rcode"},
		{"AA", func(m *dns.Msg) { m.Authoritative = false }, "flag/AA"},
		{"TC", func(m *dns.Msg) { m.Truncated = true }, "flag/TC"},
		{"RD echo", func(m *dns.Msg) { m.RecursionDesired = !m.RecursionDesired }, "flag/RD"},
		{"RA", func(m *dns.Msg) { m.RecursionAvailable = true }, "flag/RA"},
		{"opcode", func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }, "header/opcode"},
		{"question case", func(m *dns.Msg) { m.Question[0].Name = "En.example.org." }, "question"},
		{"ID", func(m *dns.Msg) { m.Id = 8 }, "header/id"},
		{"ECS scope", func(m *dns.Msg) { m.IsEdns0().Option[0].(*dns.EDNS0_SUBNET).SourceScope = 26 }, "opt/ECS-scope"},
		{"ECS source", func(m *dns.Msg) { m.IsEdns0().Option[0].(*dns.EDNS0_SUBNET).SourceNetmask = 25 }, "opt/ECS"},
		{"no ECS", func(m *dns.Msg) { m.IsEdns0().Option = nil }, "opt/ECS/missing"},
		{"NSID", func(m *dns.Msg) {
			o := m.IsEdns0()
			o.Option = append(o.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: "6e73"})
		}, "opt/NSID/extra"},
		{"DO", func(m *dns.Msg) { m.IsEdns0().SetDo() }, "opt/do"},
		{"no OPT", func(m *dns.Msg) { m.Extra = nil }, "opt/presence"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := base(), base()
			c.change(b)
			if got := classes(compareMsgs(plainQuery, a, b)); got != c.want {
				t.Errorf("classes %q, want %q", got, c.want)
			}
			if got := classes(compareMsgs(plainQuery, b, a)); !strings.HasPrefix(got, strings.Split(c.want, "/")[0]) {
				t.Errorf("reversed: classes %q, want %q", got, c.want)
			}
		})
	}
}

func TestCompareNoReply(t *testing.T) {
	a := reply(t, []string{rrA1}, nil, nil)
	if got := classes(compareMsgs(plainQuery, a, nil)); got != "no-reply/compared" {
		t.Errorf("compared server silent: %q", got)
	}
	if got := classes(compareMsgs(plainQuery, nil, a)); got != "no-reply/reference" {
		t.Errorf("gdnsd silent: %q", got)
	}
	if ms := compareMsgs(plainQuery, nil, nil); len(ms) != 0 {
		t.Errorf("both silent: %v", ms)
	}
}

// The server cookie is each server's own; the echoed client cookie is not.
func TestCompareCookies(t *testing.T) {
	withCookie := func(c string) *dns.Msg {
		o := ecsOpt(24)
		o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: c})
		return reply(t, []string{rrA1}, nil, o)
	}
	client := "0102030405060708"
	gdnsd := withCookie(client + "1111111111111111")
	authdns := withCookie(client + "01000000aaaaaaaabbbbbbbbbbbbbbbb")
	if ms := compareMsgs(plainQuery, gdnsd, authdns); len(ms) != 0 {
		t.Errorf("server cookies of two formats: %v", ms)
	}
	if got := classes(compareMsgs(plainQuery, gdnsd, withCookie("ffffffffffffffff1111111111111111"))); got != "opt/COOKIE" {
		t.Errorf("another client cookie echoed: %q", got)
	}
	if got := classes(compareMsgs(plainQuery, gdnsd, withCookie(client))); got != "opt/COOKIE" {
		t.Errorf("no server cookie: %q", got)
	}
	if ms := compareMsgs(plainQuery, gdnsd, gdnsd); len(ms) != 0 {
		t.Errorf("a reply against itself: %v", ms)
	}
}

// The comparison survives the wire: a packed and unpacked reply equals
// the original, and normalising does not change the caller's message.
func TestCompareAfterWireRoundTrip(t *testing.T) {
	a := reply(t, []string{rrA1, rrA2}, []string{soa}, ecsOpt(24))
	wire, err := a.Pack()
	if err != nil {
		t.Fatal(err)
	}
	b := new(dns.Msg)
	if err := b.Unpack(wire); err != nil {
		t.Fatal(err)
	}
	if ms := compareMsgs(plainQuery, a, b); len(ms) != 0 {
		t.Errorf("after a round trip: %v", ms)
	}
	before := a.String()
	compareMsgs(plainQuery, a, b)
	if a.String() != before {
		t.Error("compareMsgs changed its argument")
	}
}

// Each intentional difference is ignored, and only that.
func TestNormaliseIntentionalDifferences(t *testing.T) {
	base := func() *dns.Msg {
		m := reply(t, []string{"www.example.org. 600 IN CNAME en.example.org."}, []string{soa}, ecsOpt(24))
		m.Question[0].Name = "WwW.ExAmple.org."
		return m
	}
	cd := plainQuery
	cd.CD = true
	keep := plainQuery
	keep.TCP, keep.Keepalive = true, true
	withKeepalive := func(m *dns.Msg) {
		o := m.IsEdns0()
		o.Option = append(o.Option, &dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE, Timeout: 150})
	}
	cases := []struct {
		name   string
		q      query
		change func(m *dns.Msg)
		want   string // "" = equal after normalising
	}{
		{"CD copied by one server only", cd, func(m *dns.Msg) { m.CheckingDisabled = true }, ""},
		{"payload size advertised", plainQuery, func(m *dns.Msg) { m.IsEdns0().SetUDPSize(1232) }, ""},
		{"case of names in data", plainQuery, func(m *dns.Msg) {
			m.Answer[0] = mustRR(t, "www.example.org. 600 IN CNAME En.ExAmple.org.")
			m.Ns[0] = mustRR(t, strings.NewReplacer("ns0.example", "ns0.ExAmple", "hostmaster.example", "hostmaster.ExAmple").Replace(soa))
		}, ""},
		{"keepalive not asked for", plainQuery, withKeepalive, ""},
		{"keepalive asked for", keep, withKeepalive, "opt/KEEPALIVE/extra"},
		{"case of an owner", plainQuery, func(m *dns.Msg) { m.Answer[0].Header().Name = "WWW.example.org." }, "answer/owner-case"},
		{"case of TXT data", plainQuery, func(m *dns.Msg) {
			m.Answer = append(m.Answer, mustRR(t, "www.example.org. 600 IN TXT \"Abc\""))
		}, "answer/extra-rrset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := base(), base()
			c.change(b)
			if got := classes(compareMsgs(c.q, a, b)); got != c.want {
				t.Errorf("classes %q, want %q", got, c.want)
			}
		})
	}
	txtA := reply(t, []string{"en.example.org. 600 IN TXT \"Abc\""}, nil, nil)
	txtB := reply(t, []string{"en.example.org. 600 IN TXT \"abc\""}, nil, nil)
	if got := classes(compareMsgs(plainQuery, txtA, txtB)); got != "answer/rdata-case" {
		t.Errorf("TXT data differing in case: %q", got)
	}
}
