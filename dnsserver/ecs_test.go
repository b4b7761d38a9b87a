package dnsserver

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// fakeGeo answers every dynamic record with one address per family, and
// reports as scope the client's prefix length plus one, so tests can see
// which address was used.
type fakeGeo struct {
	last   Client
	v4, v6 []netip.Addr
	cname  []byte
}

func newFakeGeo() *fakeGeo {
	return &fakeGeo{v4: []netip.Addr{netip.MustParseAddr("198.51.100.1")},
		v6: []netip.Addr{netip.MustParseAddr("2001:db8::1")}, cname: []byte("\x03lb1\x07example\x03net\x00")}
}

func (f *fakeGeo) Resolve(d *zones.Dyn, c *Client, out *zones.DynAnswer, info *DynInfo) {
	f.last = *c
	out.V4 = f.v4
	if d.Resource != "v4only" {
		out.V6 = f.v6
	}
	if d.Resource == "cname" {
		out.CNAME = f.cname
	}
	out.TTL = d.ClampTTL(30, true)
	info.Scope = 20
}

type okChecker struct{}

func (okChecker) CheckDyn(plugin, res, dc string, dync bool) (any, error) { return res, nil }

func dynSnapshot(t testing.TB) (*Snapshot, *fakeGeo) {
	dir := t.TempDir()
	zone := `$TTL 300
@ IN SOA ns1 hm 1 2 3 4 60
@ IN NS ns1
ns1 IN A 192.0.2.1
www 300/60 IN DYNA geoip!addrs
v4 300 IN DYNA geoip!v4only
lb 300 IN DYNC geoip!cname
*.wild 300 IN DYNA geoip!addrs
`
	os.WriteFile(filepath.Join(dir, "dyn.test"), []byte(zone), 0o644)
	set, err := zones.LoadDir(dir, okChecker{})
	if err != nil {
		t.Fatal(err)
	}
	g := newFakeGeo()
	return (&Snapshot{Zones: set, Dyn: g}).Prepare(), g
}

func withECS(q *dns.Msg, family uint16, bits uint8, addr string) *dns.Msg {
	q.SetEdns0(1232, false)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET,
		Family: family, SourceNetmask: bits, Address: netip.MustParseAddr(addr).AsSlice()})
	return q
}

func ecsOf(t *testing.T, r *dns.Msg) *dns.EDNS0_SUBNET {
	t.Helper()
	if r.IsEdns0() == nil {
		return nil
	}
	for _, o := range r.IsEdns0().Option {
		if e, ok := o.(*dns.EDNS0_SUBNET); ok {
			return e
		}
	}
	return nil
}

func TestDynAnswers(t *testing.T) {
	snap, _ := dynSnapshot(t)
	tests := []struct {
		name, qname string
		qtype       uint16
		answer, ns  string
	}{
		{"DYNA A, TTL capped by the forced TTL and clamped to MIN", "www.dyn.test.", dns.TypeA, "www.dyn.test. 60 IN A 198.51.100.1", ""},
		{"DYNA AAAA", "www.dyn.test.", dns.TypeAAAA, "www.dyn.test. 60 IN AAAA 2001:db8::1", ""},
		{"no address of the family is NODATA, no failover", "v4.dyn.test.", dns.TypeAAAA, "", "dyn.test. 60 IN SOA ns1.dyn.test. hm.dyn.test. 1 2 3 4 60"},
		{"DYNA other types NODATA", "www.dyn.test.", dns.TypeMX, "", "dyn.test. 60 IN SOA ns1.dyn.test. hm.dyn.test. 1 2 3 4 60"},
		{"DYNC CNAME for any type", "lb.dyn.test.", dns.TypeA, "lb.dyn.test. 150 IN CNAME lb1.example.net.", ""},
		{"DYNC CNAME answers ANY (not HINFO), as gdnsd", "lb.dyn.test.", dns.TypeANY, "lb.dyn.test. 150 IN CNAME lb1.example.net.", ""},
		{"DYNA answers ANY with RFC 8482's HINFO", "www.dyn.test.", dns.TypeANY, "www.dyn.test. 3600 IN HINFO \"RFC8482\" \"\"", ""},
		{"wildcard DYNA", "x.wild.dyn.test.", dns.TypeA, "x.wild.dyn.test. 150 IN A 198.51.100.1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exchange(t, snap, query(tt.qname, tt.qtype), false)
			if got := rrStrings(r.Answer); got != tt.answer {
				t.Errorf("answer: got %s want %s", got, tt.answer)
			}
			if got := rrStrings(r.Ns); got != tt.ns {
				t.Errorf("authority: got %s want %s", got, tt.ns)
			}
		})
	}
}

func TestECS(t *testing.T) {
	snap, g := dynSnapshot(t)
	// A valid option: the ECS address is used and echoed with the scope.
	r := exchange(t, snap, withECS(query("www.dyn.test.", dns.TypeA), 1, 24, "203.0.113.0"), false)
	e := ecsOf(t, r)
	if r.Rcode != 0 || e == nil || e.Family != 1 || e.SourceNetmask != 24 || e.SourceScope != 20 || e.Address.String() != "203.0.113.0" {
		t.Fatalf("echo = %+v rcode %d", e, r.Rcode)
	}
	if !g.last.HasECS || g.last.ECS.String() != "203.0.113.0" || g.last.ECSBits != 24 {
		t.Fatalf("client = %+v", g.last)
	}
	// Static data: scope 0.
	r = exchange(t, snap, withECS(query("ns1.dyn.test.", dns.TypeA), 1, 24, "203.0.113.0"), false)
	if e := ecsOf(t, r); e == nil || e.SourceScope != 0 {
		t.Fatalf("static scope = %+v", e)
	}
	// Source prefix 0: the packet source is used, scope 0.
	r = exchange(t, snap, withECS(query("www.dyn.test.", dns.TypeA), 1, 0, "0.0.0.0"), false)
	if e := ecsOf(t, r); e == nil || e.SourceScope != 0 || g.last.HasECS {
		t.Fatalf("/0: echo %+v client %+v", e, g.last)
	}
	// IPv6 ECS.
	r = exchange(t, snap, withECS(query("www.dyn.test.", dns.TypeAAAA), 2, 48, "2001:db8:1234::"), false)
	if e := ecsOf(t, r); e == nil || e.Family != 2 || e.SourceNetmask != 48 || e.SourceScope != 20 {
		t.Fatalf("v6 echo = %+v", e)
	}
	// No ECS in: none out.
	q := query("www.dyn.test.", dns.TypeA)
	q.SetEdns0(1232, false)
	if e := ecsOf(t, exchange(t, snap, q, false)); e != nil {
		t.Fatal("ECS in the reply without ECS in the query")
	}
}

// rawECS builds a query with a hand-made ECS option payload.
func rawECS(t *testing.T, payload []byte) []byte {
	q := query("www.dyn.test.", dns.TypeA)
	q.SetEdns0(1232, false)
	p, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	// The OPT RR is last with RDLENGTH 0: append one option.
	opt := binary.BigEndian.AppendUint16(nil, dns.EDNS0SUBNET)
	opt = binary.BigEndian.AppendUint16(opt, uint16(len(payload)))
	opt = append(opt, payload...)
	binary.BigEndian.PutUint16(p[len(p)-2:], uint16(len(opt)))
	return append(p, opt...)
}

func TestECSFormErr(t *testing.T) {
	snap, _ := dynSnapshot(t)
	tests := []struct {
		name    string
		payload []byte
	}{
		{"shorter than 4 bytes", []byte{0, 1, 24}},
		{"non-zero scope in the query", []byte{0, 1, 24, 8, 203, 0, 113}},
		{"family 3", []byte{0, 3, 8, 0, 10}},
		{"v4 prefix over 32", []byte{0, 1, 33, 0, 1, 2, 3, 4, 5}},
		{"v6 prefix over 128", append([]byte{0, 2, 129, 0}, make([]byte, 17)...)},
		{"address too long", []byte{0, 1, 8, 0, 10, 0}},
		{"address too short", []byte{0, 1, 24, 0, 10, 0}},
		{"bits set past the prefix", []byte{0, 1, 23, 0, 203, 0, 113}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exchangeRaw(t, snap, rawECS(t, tt.payload), false)
			if r == nil || r.Rcode != dns.RcodeFormatError {
				t.Fatalf("want FORMERR, got %v", r)
			}
			// The OPT record itself was sound, so the reply has one
			// (RFC 6891 §6.1.1), without an ECS option to echo.
			opt := r.IsEdns0()
			if opt == nil {
				t.Fatal("FORMERR for a bad ECS option has no OPT record")
			}
			for _, o := range opt.Option {
				if o.Option() == dns.EDNS0SUBNET {
					t.Fatalf("FORMERR echoes the malformed ECS option: %v", o)
				}
			}
		})
	}
	// And a valid one built the same way is accepted.
	if r := exchangeRaw(t, snap, rawECS(t, []byte{0, 1, 23, 0, 203, 0, 112}), false); r.Rcode != 0 {
		t.Fatalf("valid /23: rcode %d", r.Rcode)
	}
}
