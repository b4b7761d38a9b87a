package authdns

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/miekg/dns"
)

// The whole answer path over the default configuration, as a UDP reader
// runs it: any packet with a query header gets a reply that miekg/dns
// reads, with QR set, the query's ID and no more bytes than the client
// can take; anything else is dropped. The answer cache changes nothing:
// a cache miss and the hit after it equal the uncached reply (but for the
// server cookie's timestamp). The default rrl: block is log-only: it
// accounts every reply and drops none.
func FuzzAnswer(f *testing.F) {
	st, err := LoadState(filepath.Join(repoRoot(), "config", "authdns.yaml"), quietLog())
	if err != nil {
		f.Fatal(err)
	}
	snap := st.Snapshot()
	for _, p := range answerSeeds(f) {
		f.Add(p)
	}
	src := netip.MustParseAddr("198.51.100.7")
	plain, cached := dnsserver.NewAnswerer(false), dnsserver.NewAnswerer(true)
	f.Fuzz(func(t *testing.T, q []byte) {
		want := bytes.Clone(plain.Answer(snap, q, src))
		if len(q) < 12 || q[2]&0x80 != 0 {
			if want != nil {
				t.Fatalf("answered a packet with no query header: %x", want)
			}
			return
		}
		if want == nil {
			t.Fatal("dropped a packet with a query header")
		}
		m := new(dns.Msg)
		if err := m.Unpack(want); err != nil {
			t.Fatalf("reply %x does not unpack: %v", want, err)
		}
		if !m.Response || m.Id != binary.BigEndian.Uint16(q) {
			t.Fatalf("reply has QR %v, id %d; query id %d", m.Response, m.Id, binary.BigEndian.Uint16(q))
		}
		if limit := udpLimit(q); len(want) > limit {
			t.Fatalf("reply of %d bytes over the client's %d", len(want), limit)
		}
		hasCookie := lastOptionIsCookie(m)
		for i := range 2 {
			got := bytes.Clone(cached.Answer(snap, q, src))
			if hasCookie && len(got) == len(want) {
				clear(got[len(got)-serverCookieLen:])
				clear(want[len(want)-serverCookieLen:])
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("cached reply %d differs:\n got %x\nwant %x", i, got, want)
			}
		}
	})
}

// serverCookieLen is RFC 9018's server cookie: it holds a timestamp, so
// two replies a second apart differ there and only there.
const serverCookieLen = 16

// lastOptionIsCookie: the reply ends with a COOKIE option of a client and
// a server cookie (the answer path writes it last).
func lastOptionIsCookie(m *dns.Msg) bool {
	o := m.IsEdns0()
	if o == nil || len(o.Option) == 0 {
		return false
	}
	c, ok := o.Option[len(o.Option)-1].(*dns.EDNS0_COOKIE)
	return ok && len(c.Cookie) == 2*(8+serverCookieLen)
}

// udpLimit is the reply size the query allows: 512 bytes, or the EDNS
// buffer size it gives when miekg/dns reads it (the default
// configuration's max_udp_size caps that).
func udpLimit(q []byte) int {
	m := new(dns.Msg)
	if m.Unpack(q) != nil {
		return 65535 // a query miekg/dns refuses gets FORMERR: no size to check
	}
	if o := m.IsEdns0(); o != nil {
		return max(512, int(min(o.UDPSize(), 1232)))
	}
	return 512
}

// answerSeeds ask for every kind of record in config/zones/example.org,
// with and without EDNS, ECS and odd case, and a few broken packets.
func answerSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	pack := func(m *dns.Msg) {
		p, err := m.Pack()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"example.org.", dns.TypeSOA}, {"example.org.", dns.TypeNS}, {"example.org.", dns.TypeMX},
		{"example.org.", dns.TypeANY}, {"ExAmPlE.oRg.", dns.TypeCAA}, {"ns1.example.org.", dns.TypeAAAA},
		{"alias.example.org.", dns.TypeA}, {"_sip._tcp.example.org.", dns.TypeSRV}, {"1.2.0.192.example.org.", dns.TypePTR},
		{"naptr.example.org.", dns.TypeNAPTR}, {"x.wild.example.org.", dns.TypeTXT}, {"a.b.sub.example.org.", dns.TypeA},
		{"sub.example.org.", dns.TypeDS}, {"private.example.org.", 65280}, {"www.example.org.", dns.TypeA},
		{"next.example.org.", dns.TypeAAAA}, {"text.example.org.", dns.TypeA}, {"esams-only.example.org.", dns.TypeA},
		{"x.geo.example.org.", dns.TypeA}, {"nothing.example.org.", dns.TypeA}, {"example.com.", dns.TypeA},
		{"example.org.", dns.TypeAXFR},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.Id = 0x1234
		pack(m)
		m.SetEdns0(4096, true)
		pack(m)
	}
	for _, fam := range []struct {
		family uint16
		bits   uint8
		addr   string
	}{{1, 24, "192.0.2.0"}, {2, 48, "2001:db8::"}, {1, 0, "0.0.0.0"}} {
		m := new(dns.Msg)
		m.SetQuestion("www.example.org.", dns.TypeA)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID},
			&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: fam.family, SourceNetmask: fam.bits, Address: netip.MustParseAddr(fam.addr).AsSlice()})
		pack(m)
	}
	for _, cookie := range []string{"0102030405060708", "0102030405060708" + "01000000" + "00000000" + "0011223344556677"} {
		m := new(dns.Msg)
		m.SetQuestion("static.example.org.", dns.TypeA)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
		pack(m)
		m.Question = nil // cookie priming
		pack(m)
	}
	c := new(dns.Msg)
	c.SetQuestion("version.bind.", dns.TypeTXT)
	c.Question[0].Qclass = dns.ClassCHAOS
	pack(c)
	full := out[0]
	return append(out, full[:20], full[:12], full[:11])
}
