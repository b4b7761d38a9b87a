package dnsserver

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// oneZoneSnapshot serves one zone: a SOA, an NS and its address, then records
// (DYNA/DYNC accepted for any resource).
func oneZoneSnapshot(t *testing.T, origin, records string, nsid []byte) *Snapshot {
	t.Helper()
	dir := t.TempDir()
	zone := "$TTL 300\n@ IN SOA ns1 hm 1 2 3 4 60\n@ IN NS ns1\nns1 IN A 192.0.2.1\n" + records
	if err := os.WriteFile(filepath.Join(dir, origin), []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := zones.LoadDir(dir, okChecker{})
	if err != nil {
		t.Fatal(err)
	}
	return (&Snapshot{Zones: set, NSID: nsid}).Prepare()
}

// variant shapes one query: everything a client may change around the same
// question, which the cached reply must reflect exactly.
type variant struct {
	name  string
	id    uint16
	rd    bool
	cd    bool
	upper bool   // query name in upper case
	edns  uint16 // 0: no OPT; else the UDP size
	do    bool
	nsid  bool
	ecs   string // client subnet, "" for none
}

var cacheVariants = []variant{
	{name: "plain", id: 1},
	{name: "again, other id", id: 2},
	{name: "rd+cd", id: 3, rd: true, cd: true},
	{name: "upper case", id: 4, upper: true},
	{name: "edns 4096", id: 5, edns: 4096},
	{name: "edns 4096 DO NSID", id: 6, edns: 4096, do: true, nsid: true},
	{name: "edns 1232 ecs", id: 7, edns: 1232, ecs: "198.51.100.0/24"},
	{name: "edns 1232 other ecs", id: 8, edns: 1232, ecs: "203.0.113.0/24", upper: true, rd: true},
	{name: "edns 512", id: 9, edns: 512},
	{name: "plain again", id: 10},
	{name: "edns 1232 after 512", id: 11, edns: 1232},
}

func (v variant) pack(t *testing.T, qname string, qtype uint16) []byte {
	t.Helper()
	if v.upper {
		qname = strings.ToUpper(qname)
	}
	m := query(qname, qtype)
	m.Id, m.RecursionDesired, m.CheckingDisabled = v.id, v.rd, v.cd
	if v.edns != 0 {
		m.SetEdns0(v.edns, v.do)
		if v.nsid {
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		}
		if v.ecs != "" {
			pfx := netip.MustParsePrefix(v.ecs)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET,
				Family: 1, SourceNetmask: uint8(pfx.Bits()), Address: pfx.Addr().AsSlice()})
		}
	}
	p, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Every reply from a caching worker must equal, byte for byte, the reply of
// a worker without a cache, whatever the order of queries and variants.
func TestCachedRepliesEqualFreshOnes(t *testing.T) {
	snap := testSnapshot(t)
	questions := []struct {
		name  string
		qtype uint16
	}{
		{"www.example.org.", dns.TypeA}, {"www.example.org.", dns.TypeAAAA}, {"www.example.org.", dns.TypeMX},
		{"example.org.", dns.TypeNS}, {"example.org.", dns.TypeMX}, {"example.org.", dns.TypeSOA},
		{"example.org.", dns.TypeANY}, {"alias.example.org.", dns.TypeA}, {"chain1.example.org.", dns.TypeAAAA},
		{"outside.example.org.", dns.TypeA}, {"loop1.example.org.", dns.TypeA}, {"nope.example.org.", dns.TypeA},
		{"ent.example.org.", dns.TypeA}, {"x.wild.example.org.", dns.TypeTXT}, {"exists.wild.example.org.", dns.TypeA},
		{"child.example.org.", dns.TypeA}, {"child.example.org.", dns.TypeDS}, {"_sip._tcp.example.org.", dns.TypeSRV},
		{"big.example.org.", dns.TypeTXT}, {"www.example.com.", dns.TypeA}, {"www.sub.example.org.", dns.TypeA},
		{"unknown.example.org.", 65280},
	}
	src := netip.MustParseAddr("192.0.2.1")
	cached := newWorker(new(Stats))
	cached.cache = newAnswerCache()
	fresh := newWorker(new(Stats))
	out1, out2 := make([]byte, 0, 65537), make([]byte, 0, 65537)
	for _, q := range questions {
		for _, v := range cacheVariants {
			p := v.pack(t, q.name, q.qtype)
			got := cached.answer(snap, p, src, false, out1)
			want := fresh.answer(snap, p, src, false, out2)
			if rc := got[3] & 0xF; rc == dns.RcodeFormatError {
				t.Fatalf("%s, %s: FORMERR: the test query is malformed", q.name, v.name)
			}
			if !bytes.Equal(got, want) {
				g, w := new(dns.Msg), new(dns.Msg)
				g.Unpack(got)
				w.Unpack(want)
				t.Fatalf("%s %s, %s: cached reply differs\ngot:\n%v\nwant:\n%v", q.name, dns.TypeToString[q.qtype], v.name, g, w)
			}
		}
	}
	// The repeats must have come from the cache: every question was asked
	// at least twice in an identical shape ("plain" and "plain again").
	if hits := cached.stats.CacheHits.Load(); hits < uint64(len(questions)) {
		t.Errorf("%d cache hits, want at least %d", hits, len(questions))
	}
	// Counters see a hit as an ordinary answer.
	var a, b StatsSnapshot
	cached.stats.addTo(&a)
	fresh.stats.addTo(&b)
	a.CacheHits = 0
	if a != b {
		t.Errorf("counters differ with the cache:\n%+v\n%+v", a, b)
	}
}

// netGeo answers with the client's own network, so a reply replayed to the
// wrong client shows. Resources: "narrow" (/24 or /48), "wide" (/16 or
// /32), "hop" (a narrow DYNC whose target, wide or pin, depends on the
// client: two resolutions, the first the narrower), "opaque" (says nothing of its validity), "pin"
// (the same for every client).
type netGeo struct{}

func (netGeo) Resolve(d *zones.Dyn, c *Client, out *zones.DynAnswer, info *DynInfo) {
	a := c.Src
	if c.HasECS {
		a = c.ECS
	}
	bits := map[string]int{"narrow": 24, "hop": 24, "wide": 16, "opaque": 24, "pin": 0}[d.Resource]
	if a.Is6() {
		bits *= 2
	}
	n := netip.PrefixFrom(a, bits).Masked()
	v := n.Addr().Unmap().As16()
	out.V4 = []netip.Addr{netip.AddrFrom4([4]byte{10, v[13] ^ v[1], v[14] ^ v[2], v[15] ^ v[3]})}
	out.TTL = 60
	info.Net, info.UsedECS, info.Scope = n, c.HasECS, uint8(bits)
	info.ReasonCode, info.DCSlot = uint8(bits%7), uint8(bits%5)
	switch d.Resource {
	case "hop": // the target depends on the client, within the wide net
		out.CNAME = []byte("\x03pin\x03dyn\x04test\x00")
		if b := a.As16(); (a.Is4() && b[14]&1 == 1) || (a.Is6() && b[5]&1 == 1) {
			out.CNAME = []byte("\x04wide\x03dyn\x04test\x00")
		}
	case "opaque":
		info.Net = netip.Prefix{}
	case "pin":
		info.Net, info.SameForAll = netip.Prefix{}, true
		out.V4 = []netip.Addr{netip.MustParseAddr("10.9.9.9")}
	}
}

// Dynamic replies are replayed only to clients their networks hold, never
// when the backend does not say, and the DYNA counters stay exact.
func TestCacheReplaysDynamicAnswersOnlyWhereTheyHold(t *testing.T) {
	snap := oneZoneSnapshot(t, "dyn.test", `narrow 300 IN DYNA geoip!narrow
wide 300 IN DYNA geoip!wide
hop 300 IN DYNC geoip!hop
opaque 300 IN DYNA geoip!opaque
pin 300 IN DYNA geoip!pin
`, nil)
	snap.Dyn = netGeo{}
	cached := newWorker(new(Stats))
	cached.cache = newAnswerCache()
	fresh := newWorker(new(Stats))
	out1, out2 := make([]byte, 0, 65537), make([]byte, 0, 65537)
	// Clients that share /16s and /24s in every combination.
	var srcs []netip.Addr
	for _, a := range []string{"192.0.2.1", "192.0.2.77", "192.0.3.1", "192.0.3.200", "198.51.100.1", "192.0.2.1",
		"2001:db8:1:1::1", "2001:db8:1:2::1", "2001:db8:2:1::1", "2001:db8:1:1::9"} {
		srcs = append(srcs, netip.MustParseAddr(a))
	}
	for range 2 {
		for _, name := range []string{"narrow.dyn.test.", "wide.dyn.test.", "hop.dyn.test.", "opaque.dyn.test.", "pin.dyn.test."} {
			for _, src := range srcs {
				for _, v := range cacheVariants {
					p := v.pack(t, name, dns.TypeA)
					if got, want := cached.answer(snap, p, src, false, out1), fresh.answer(snap, p, src, false, out2); !bytes.Equal(got, want) {
						g, w := new(dns.Msg), new(dns.Msg)
						g.Unpack(got)
						w.Unpack(want)
						t.Fatalf("%s from %s, %s: cached reply differs\ngot:\n%v\nwant:\n%v", name, src, v.name, g, w)
					}
				}
			}
		}
	}
	var a, b StatsSnapshot
	cached.stats.addTo(&a)
	fresh.stats.addTo(&b)
	if a.CacheHits == 0 {
		t.Fatal("no cache hits: the test did not exercise the cache")
	}
	a.CacheHits = 0
	if a != b {
		t.Errorf("counters differ with the cache:\n%+v\n%+v", a, b)
	}
}

// A dynamic reply whose backend does not say for which clients it holds is
// never cached.
func TestCacheSkipsDynamicAnswersOfUnknownReach(t *testing.T) {
	snap, _ := dynSnapshot(t) // fakeGeo sets no Net
	wk := newWorker(new(Stats))
	wk.cache = newAnswerCache()
	for range 3 {
		for _, v := range cacheVariants {
			wk.answer(snap, v.pack(t, "www.dyn.test.", dns.TypeA), netip.MustParseAddr("192.0.2.1"), false, make([]byte, 0, 65537))
		}
	}
	if hits := wk.stats.CacheHits.Load(); hits != 0 {
		t.Errorf("%d cache hits, want 0", hits)
	}
}

// A new snapshot (a reload) must never be answered from the old one's cache.
func TestCacheFollowsTheSnapshot(t *testing.T) {
	load := func(addr string) *Snapshot {
		return oneZoneSnapshot(t, "reload.test", "www IN A "+addr+"\n", nil)
	}
	old, next := load("192.0.2.10"), load("192.0.2.20")
	wk := newWorker(new(Stats))
	wk.cache = newAnswerCache()
	p := cacheVariants[0].pack(t, "www.reload.test.", dns.TypeA)
	ask := func(snap *Snapshot) string {
		m := new(dns.Msg)
		if err := m.Unpack(wk.answer(snap, p, netip.MustParseAddr("192.0.2.1"), false, make([]byte, 0, 65537))); err != nil {
			t.Fatal(err)
		}
		return rrStrings(m.Answer)
	}
	for _, snap := range []*Snapshot{old, old, next, next, old} {
		want := "www.reload.test. 300 IN A 192.0.2.10"
		if snap == next {
			want = "www.reload.test. 300 IN A 192.0.2.20"
		}
		if got := ask(snap); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if wk.stats.CacheHits.Load() != 2 {
		t.Errorf("cache hits %d, want 2 (the second query of each run)", wk.stats.CacheHits.Load())
	}
}

// A flood of distinct names must not allocate: slots are overwritten.
func TestCacheDoesNotAllocate(t *testing.T) {
	snap := testSnapshot(t)
	wk := newWorker(new(Stats))
	wk.cache = newAnswerCache()
	var packets [][]byte
	for i := range 3000 {
		packets = append(packets, cacheVariants[0].pack(t, "n"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+".example.org.", dns.TypeA))
	}
	src := netip.MustParseAddr("192.0.2.1")
	out := make([]byte, 0, 65537)
	i := 0
	allocs := testing.AllocsPerRun(5000, func() {
		wk.answer(snap, packets[i%len(packets)], src, false, out)
		i++
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per query with the cache, want 0", allocs)
	}
}

// The OPT record's size (NSID, ECS) decides whether a reply near the UDP
// limit fits, so a reply cached for one OPT size must not serve another.
func TestCacheKeepsOPTSizesApart(t *testing.T) {
	txt := `"` + strings.Repeat("a", 255) + `" "` + strings.Repeat("b", 195) + `"`
	snap := oneZoneSnapshot(t, "example.org", "edge IN TXT "+txt+"\n", []byte("ns-test"))
	small := variant{id: 1, edns: 512}             // OPT of 11 bytes: the reply fits
	large := variant{id: 2, edns: 512, nsid: true} // OPT of 22 bytes: it does not
	src := netip.MustParseAddr("192.0.2.1")
	fresh := newWorker(new(Stats))
	tc := func(b []byte) bool { return b[2]&(flagTC>>8) != 0 }
	if a, b := fresh.answer(snap, small.pack(t, "edge.example.org.", dns.TypeTXT), src, false, make([]byte, 0, 65537)), fresh.answer(snap, large.pack(t, "edge.example.org.", dns.TypeTXT), src, false, make([]byte, 0, 65537)); tc(a) || !tc(b) {
		t.Fatalf("precondition: want the small-OPT reply whole (tc=%v) and the large one truncated (tc=%v)", tc(a), tc(b))
	}
	wk := newWorker(new(Stats))
	wk.cache = newAnswerCache()
	for _, v := range []variant{small, large, small, large} {
		p := v.pack(t, "edge.example.org.", dns.TypeTXT)
		if got, want := wk.answer(snap, p, src, false, make([]byte, 0, 65537)), fresh.answer(snap, p, src, false, make([]byte, 0, 65537)); !bytes.Equal(got, want) {
			t.Fatalf("nsid=%v: cached reply differs (tc %v, want %v)", v.nsid, tc(got), tc(want))
		}
	}
}
