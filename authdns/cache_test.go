package authdns

import (
	"bytes"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/miekg/dns"
)

// The UDP readers replay cached replies, DYNA ones included, to clients in
// the same GeoIP map entry. Over the default configuration (real zones,
// geoip.yaml and MMDB), every reply of a caching Answerer must equal the
// reply of one without a cache, byte for byte, for clients of every
// continent, with and without ECS, before and after an admin_state change.
func TestCachedRepliesEqualFreshOnesWithGeoIP(t *testing.T) {
	st, err := LoadState(filepath.Join(repoRoot(), "config", "authdns.yaml"), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	down, err := adminstate.Parse("admin_state", []byte("geoip/generic-map/esams => DOWN\ngeoip/generic-map/ulsfo => DOWN/60\n"))
	if err != nil {
		t.Fatal(err)
	}
	snaps := []*dnsserver.Snapshot{st.Snapshot(), st.WithAdmin(down).Snapshot()}

	// Clients: addresses of every row kind in default-city.csv and some that
	// are in no row; each asks from its own source and, as a resolver's
	// client, through ECS with several prefix lengths.
	var clients []netip.Addr
	for _, base := range []string{"192.0.2.%d", "198.51.100.%d", "203.0.113.%d", "10.1.2.%d", "172.16.9.%d", "100.64.0.%d"} {
		for _, last := range []int{1, 70, 130, 200, 250} {
			clients = append(clients, netip.MustParseAddr(fmt.Sprintf(base, last)))
		}
	}
	for _, a := range []string{"2001:db8:100::1", "2001:db8:200::7", "2001:db8:300::9", "2001:db8:ffff::1", "::ffff:192.0.2.9", "2002:c000:281::1", "fd00::1"} {
		clients = append(clients, netip.MustParseAddr(a))
	}
	type question struct {
		name  string
		qtype uint16
	}
	var questions []question
	for _, n := range []string{"www.example.org.", "next.example.org.", "text.example.org.", "esams-only.example.org.", "a.geo.example.org.", "static.example.org.", "nope.example.org."} {
		questions = append(questions, question{n, dns.TypeA}, question{n, dns.TypeAAAA})
	}
	pack := func(q question, id uint16, ecs netip.Prefix, upper bool) []byte {
		name := q.name
		if upper {
			name = "WWW" + name[3:]
		}
		m := new(dns.Msg)
		m.SetQuestion(name, q.qtype)
		m.Id = id
		if ecs.IsValid() {
			m.SetEdns0(1232, false)
			e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: uint8(ecs.Bits()), Address: ecs.Addr().AsSlice()}
			if ecs.Addr().Is6() {
				e.Family = 2
			}
			m.IsEdns0().Option = append(m.IsEdns0().Option, e)
		}
		p, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cached, fresh := dnsserver.NewAnswerer(true), dnsserver.NewAnswerer(false)
	resolver := netip.MustParseAddr("127.0.0.1")
	id := uint16(0)
	for round := range 2 { // the second round finds everything cached
		for _, snap := range snaps {
			for _, c := range clients {
				bits := []int{24, 16, 32}
				if c.Is6() {
					bits = []int{56, 48, 64}
				}
				for _, q := range questions {
					for i, b := range append([]int{-1}, bits...) {
						id++
						src, ecs := c, netip.Prefix{}
						if b >= 0 {
							src, ecs = resolver, netip.PrefixFrom(c, b).Masked()
						}
						p := pack(q, id, ecs, i == 1 && q.name[:3] == "www")
						got := bytes.Clone(cached.Answer(snap, p, src))
						want := fresh.Answer(snap, p, src)
						if !bytes.Equal(got, want) {
							g, w := new(dns.Msg), new(dns.Msg)
							g.Unpack(got)
							w.Unpack(want)
							t.Fatalf("round %d, %s %s from %s ecs %v: cached reply differs\ngot:\n%v\nwant:\n%v",
								round, q.name, dns.TypeToString[q.qtype], src, ecs, g, w)
						}
					}
				}
			}
		}
	}
	c, f := cached.Stats(), fresh.Stats()
	if c.CacheHits == 0 || c.Dyn == 0 {
		t.Fatalf("cache hits %d, dynamic answers %d: the test did not exercise the cache", c.CacheHits, c.Dyn)
	}
	// Every counter, the DYNA ones by reason and DC included, is the same
	// whether answers came from the cache or not.
	c.CacheHits = 0
	if c != f {
		t.Errorf("counters differ with the cache:\ncached %+v\nfresh  %+v", c, f)
	}
	t.Logf("%d queries, %d answered from the cache", id, cached.Stats().CacheHits)
}

// DYNA answers through the cache, hits and misses alike, allocate nothing.
func TestCachedDynaAnswersDoNotAllocate(t *testing.T) {
	st, err := LoadState(filepath.Join(repoRoot(), "config", "authdns.yaml"), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	var packets [][]byte
	for i := range 64 {
		m := new(dns.Msg)
		m.SetQuestion("www.example.org.", dns.TypeA)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1,
			SourceNetmask: 24, Address: netip.AddrFrom4([4]byte{byte(192 + i%12), byte(i), 2, 0}).AsSlice()})
		p, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		packets = append(packets, p)
	}
	a := dnsserver.NewAnswerer(true)
	src := netip.MustParseAddr("127.0.0.1")
	i := 0
	if n := testing.AllocsPerRun(1000, func() { a.Answer(snap, packets[i%len(packets)], src); i++ }); n != 0 {
		t.Errorf("%.2f allocations per cached DYNA answer, want 0", n)
	}
	if a.Stats().CacheHits == 0 {
		t.Error("no cache hits")
	}
}
