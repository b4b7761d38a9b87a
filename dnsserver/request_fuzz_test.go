package dnsserver

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// Queries come from anyone: any bytes either parse or get an outcome the
// answer path turns into a drop or an error reply, never a panic. A
// question the parser accepts is the one miekg/dns reads at the same
// place, and its lowercased copy matches it byte for byte but for case.
func FuzzParseRequest(f *testing.F) {
	for _, p := range requestSeeds(f) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		var r request
		out := r.parse(p)
		if out == parseDrop {
			if len(p) >= 12 && binary.BigEndian.Uint16(p[2:])&flagQR == 0 {
				t.Fatalf("dropped a query with a header and QR clear")
			}
			return
		}
		if r.id != binary.BigEndian.Uint16(p) || r.flags != binary.BigEndian.Uint16(p[2:]) {
			t.Fatalf("id/flags %#x/%#x, packet has %x", r.id, r.flags, p[:4])
		}
		if out == parseOK && (r.qdcount != 1 || r.qend == 0) {
			t.Fatalf("parsed without one question: qdcount %d, qend %d", r.qdcount, r.qend)
		}
		if r.qend == 0 {
			return
		}
		name, end, err := dns.UnpackDomainName(p, 12)
		if err != nil || end+4 != r.qend || r.qlen != end-12 || r.qlen > 255 {
			t.Fatalf("question ends at %d (qlen %d); miekg/dns reads %q to %d, %v", r.qend, r.qlen, name, end, err)
		}
		if r.qtype != binary.BigEndian.Uint16(p[end:]) || r.qclass != binary.BigEndian.Uint16(p[end+2:]) {
			t.Fatalf("qtype/qclass %d/%d, packet has %x", r.qtype, r.qclass, p[end:end+4])
		}
		if !bytes.Equal(r.lower(), lowerASCII(r.qname)) {
			t.Fatalf("lowercased %x, want %x", r.lower(), lowerASCII(r.qname))
		}
		if r.ecs.present && (r.ecs.family < 1 || r.ecs.family > 2 || !r.ecs.addr.IsValid() ||
			netip.PrefixFrom(r.ecs.addr, int(r.ecs.srcBits)).Masked().Addr() != r.ecs.addr) {
			t.Fatalf("accepted ECS %+v", r.ecs)
		}
	})
}

func lowerASCII(b []byte) []byte {
	out := bytes.Clone(b)
	for i, c := range out {
		if c >= 'A' && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return out
}

// requestSeeds are the kinds of queries the answer tests send: plain,
// EDNS with every option the parser reads, ECS, other opcodes and classes,
// and broken ones.
func requestSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	pack := func(m *dns.Msg) {
		p, err := m.Pack()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	pack(query("www.example.org.", dns.TypeA))
	pack(query("WwW.ExAmPlE.oRg.", dns.TypeAAAA))
	pack(withECS(query("www.example.org.", dns.TypeA), 1, 24, "192.0.2.0"))
	pack(withECS(query("www.example.org.", dns.TypeAAAA), 2, 56, "2001:db8::"))
	e := query("example.org.", dns.TypeANY)
	e.SetEdns0(4096, true)
	o := e.IsEdns0()
	o.Option = append(o.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID}, &dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE},
		&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	pack(e)
	e.Question = nil // cookie priming
	pack(e)
	v := query("example.org.", dns.TypeSOA)
	v.SetEdns0(1232, false)
	v.IsEdns0().SetVersion(1)
	pack(v)
	n := query("example.org.", dns.TypeSOA)
	n.Opcode = dns.OpcodeNotify
	pack(n)
	c := query("version.bind.", dns.TypeTXT)
	c.Question[0].Qclass = dns.ClassCHAOS
	pack(c)
	two := query("a.example.org.", dns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	pack(two)
	a := query("example.org.", dns.TypeAXFR)
	a.Ns = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "x.example.org.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: []byte{192, 0, 2, 1}}}
	pack(a)
	full := out[0]
	out = append(out, full[:20], full[:12], []byte{1, 2, 3})
	return out
}
