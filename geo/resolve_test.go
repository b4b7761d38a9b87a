package geo

import (
	"net/netip"
	"strconv"
	"testing"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

const scopeYAML = `
maps:
  m:
    geoip2_db: db.mmdb
    datacenters: [a, b, c]
    map: {EU: [b, a], NA: [c, a]}
  quiet:
    geoip2_db: db.mmdb
    datacenters: [a, b, c]
    map: {EU: [b, a], NA: [c, a]}
    ignore_ecs: true
resources:
  r: {map: m, dcmap: {a: 192.0.2.1, b: 192.0.2.2, c: 192.0.2.3}}
  q: {map: quiet, dcmap: {a: 192.0.2.1, b: 192.0.2.2, c: 192.0.2.3}}
`

func scopeGeo(t testing.TB) *Geo {
	return mustGeo(t, scopeYAML,
		row("192.0.2.0/26", "EU", "NL", "", ""),
		row("192.0.2.64/26", "EU", "FR", "", ""), // same list as NL: merged to /25
		row("192.0.2.128/26", "NA", "US", "", ""),
		row("2001:db8:1::/48", "EU", "NL", "", ""),
	)
}

func TestScopeAndV4InV6(t *testing.T) {
	g := scopeGeo(t)
	r, _ := g.Resource("r")
	q, _ := g.Resource("q")
	src := netip.MustParseAddr("198.51.100.7") // not in the DB: default list a, b, c
	for _, tc := range []struct {
		name   string
		res    *Resource
		c      Client
		dc     string
		scope  uint8
		reason Reason
	}{
		{"ecs v4 /24: scope 25 beyond the source prefix", r, Client{Src: src, ECS: netip.MustParseAddr("192.0.2.0"), ECSBits: 24, HasECS: true}, "b", 25, ReasonGeoIP},
		{"ecs /16 not in DB: scope 23", r, Client{Src: src, ECS: netip.MustParseAddr("192.0.0.0"), ECSBits: 16, HasECS: true}, "a", 23, ReasonDefault},
		{"other half", r, Client{Src: src, ECS: netip.MustParseAddr("192.0.2.128"), ECSBits: 25, HasECS: true}, "c", 26, ReasonGeoIP},
		{"no ECS: source, scope 0", r, Client{Src: netip.MustParseAddr("192.0.2.130")}, "c", 0, ReasonGeoIP},
		{"v4-mapped", r, Client{Src: src, ECS: netip.MustParseAddr("::ffff:192.0.2.1"), ECSBits: 128, HasECS: true}, "b", 121, ReasonGeoIP},
		{"SIIT", r, Client{Src: src, ECS: netip.MustParseAddr("::ffff:0:c000:201"), ECSBits: 128, HasECS: true}, "b", 121, ReasonGeoIP},
		{"NAT64 WKP", r, Client{Src: src, ECS: netip.MustParseAddr("64:ff9b::c000:281"), ECSBits: 128, HasECS: true}, "c", 122, ReasonGeoIP},
		{"Teredo (inverted 192.0.2.45)", r, Client{Src: src, ECS: netip.MustParseAddr("2001:0:4136:e378:8000:63bf:3fff:fdd2"), ECSBits: 128, HasECS: true}, "b", 121, ReasonGeoIP},
		{"6to4", r, Client{Src: src, ECS: netip.MustParseAddr("2002:c000:281::1"), ECSBits: 48, HasECS: true}, "c", 42, ReasonGeoIP},
		{"IPv4-compatible ::/96", r, Client{Src: src, ECS: netip.MustParseAddr("::c000:201"), ECSBits: 128, HasECS: true}, "b", 121, ReasonGeoIP},
		{"native IPv6", r, Client{Src: src, ECS: netip.MustParseAddr("2001:db8:1::"), ECSBits: 56, HasECS: true}, "b", 48, ReasonGeoIP},
		{"IPv6 not in DB", r, Client{Src: src, ECS: netip.MustParseAddr("2001:db8:2::"), ECSBits: 48, HasECS: true}, "a", 47, ReasonDefault},
		{"ignore_ecs uses the source, scope 0", q, Client{Src: netip.MustParseAddr("192.0.2.130"), ECS: netip.MustParseAddr("192.0.2.0"), ECSBits: 24, HasECS: true}, "c", 0, ReasonGeoIP},
	} {
		var a Answer
		g.Resolve(tc.res, "", tc.c, nil, nil, &a)
		if a.DC != tc.dc || a.Scope != tc.scope || a.Reason != tc.reason {
			t.Errorf("%s: got dc=%s scope=%d reason=%s, want dc=%s scope=%d reason=%s",
				tc.name, a.DC, a.Scope, a.Reason, tc.dc, tc.scope, tc.reason)
		}
	}
}

func TestLookupMapPrefixInQueryTerms(t *testing.T) {
	g := scopeGeo(t)
	for addr, want := range map[string]string{
		"192.0.2.77":         "192.0.2.0/25 => b, a",
		"::ffff:192.0.2.77":  "::ffff:192.0.2.0/121 => b, a",
		"2002:c000:24d::1":   "2002:c000:200::/41 => b, a",
		"2001:db8:1:2::3":    "2001:db8:1::/48 => b, a",
		"fe80::1%eth0":       "8000::/1 => a, b, c",
		"203.0.113.9":        "200.0.0.0/5 => a, b, c",
		"::ffff:203.0.113.9": "::ffff:200.0.0.0/101 => a, b, c",
	} {
		if got := lookupStr(t, g, "m", addr); got != want {
			t.Errorf("%s: got %q, want %q", addr, got, want)
		}
	}
	if _, _, err := g.LookupMap("nope", netip.MustParseAddr("192.0.2.1")); err == nil {
		t.Error("unknown map: no error")
	}
}

const foYAML = `
maps:
  m:
    datacenters: [a, b, c, d]
    nets: {192.0.2.0/24: [a, b, c], 198.51.100.0/24: [d]}
resources:
  r: {map: m, dcmap: {a: 192.0.2.1, b: 192.0.2.2, c: [192.0.2.3, 192.0.2.33], d: "2001:db8::4"}}
  s: {map: m, skip_first: true, dcmap: {a: 192.0.2.1, b: 192.0.2.2, c: 192.0.2.3, d: 192.0.2.4}}
  x: {map: m, dcmap: {a: a.example.net., b: b.example.net., c: c.example.net., d: d.example.net.}}
`

func TestFailoverAndAdmin(t *testing.T) {
	g := mustGeo(t, foYAML)
	in := Client{Src: netip.MustParseAddr("192.0.2.50")}
	for _, tc := range []struct {
		name    string
		res     string
		pin     string
		admin   string
		health  fakeHealth
		dc      string
		reason  Reason
		allDown bool
		ttl     int64 // -1: none
	}{
		{name: "all up: first", res: "r", dc: "a", reason: ReasonNets, ttl: -1},
		{name: "health down: next", res: "r", health: fakeHealth{"r/a": true}, dc: "b", reason: ReasonFailover, ttl: -1},
		{name: "health is per resource", res: "s", health: fakeHealth{"r/b": true}, dc: "b", reason: ReasonNets, ttl: -1},
		{name: "all down: first answers", res: "r", health: fakeHealth{"*/a": true, "*/b": true, "*/c": true}, dc: "a", reason: ReasonNets, allDown: true, ttl: -1},
		{name: "forced UP beats health", res: "r", health: fakeHealth{"*/a": true}, admin: "geoip/r/a => UP", dc: "a", reason: ReasonNets, ttl: -1},
		{name: "site DOWN", res: "r", admin: "site/a => DOWN", dc: "b", reason: ReasonFailover, ttl: -1},
		{name: "map over site", res: "r", admin: "site/a => DOWN\ngeoip/m/a => UP", dc: "a", reason: ReasonNets, ttl: -1},
		{name: "map over site, any order", res: "r", admin: "geoip/m/a => UP\nsite/a => DOWN", dc: "a", reason: ReasonNets, ttl: -1},
		{name: "resource over map", res: "r", admin: "geoip/r/a => DOWN\ngeoip/m/a => UP", dc: "b", reason: ReasonFailover, ttl: -1},
		{name: "resource key only hits its resource", res: "x", admin: "geoip/r/a => DOWN", dc: "a", reason: ReasonNets, ttl: -1},
		{name: "glob crosses /", res: "r", admin: "geoip/*a => DOWN", dc: "b", reason: ReasonFailover, ttl: -1},
		{name: "last line wins", res: "r", admin: "geoip/m/a => DOWN\ngeoip/m/a => UP", dc: "a", reason: ReasonNets, ttl: -1},
		{name: "TTL min over visited", res: "r", admin: "geoip/m/a => DOWN/120\ngeoip/m/b => UP/60\ngeoip/m/c => UP/30", dc: "b", reason: ReasonFailover, ttl: 60},
		{name: "TTL from a forced UP first", res: "r", admin: "site/a => UP/300", dc: "a", reason: ReasonNets, ttl: 300},
		{name: "TTL all down", res: "r", admin: "site/* => DOWN/200\ngeoip/m/c => DOWN/50", dc: "a", reason: ReasonNets, allDown: true, ttl: 50},
		{name: "skip_first", res: "s", dc: "b", reason: ReasonNets, ttl: -1},
		{name: "skip_first then failover", res: "s", health: fakeHealth{"s/b": true}, dc: "c", reason: ReasonFailover, ttl: -1},
		{name: "pinned", res: "r", pin: "c", dc: "c", reason: ReasonPinned, ttl: -1},
		{name: "pinned down still answers", res: "r", pin: "c", admin: "geoip/r/c => DOWN/10", dc: "c", reason: ReasonPinned, allDown: true, ttl: 10},
		{name: "pinned unknown DC", res: "r", pin: "zz", dc: "", reason: ReasonPinned, ttl: -1},
		{name: "CNAME", res: "x", dc: "a", reason: ReasonNets, ttl: -1},
	} {
		st, err := adminstate.Parse("admin_state", []byte(tc.admin))
		if err != nil {
			t.Fatal(err)
		}
		res, ok := g.Resource(tc.res)
		if !ok {
			t.Fatal(tc.res)
		}
		h := tc.health.apply(g)
		var a Answer
		g.Resolve(res, tc.pin, in, g.ApplyAdmin(st), h, &a)
		ttl := int64(-1)
		if a.HasTTL {
			ttl = int64(a.TTL)
		}
		if a.DC != tc.dc || a.Reason != tc.reason || a.AllDown != tc.allDown || ttl != tc.ttl {
			t.Errorf("%s: got dc=%q reason=%s allDown=%v ttl=%d, want dc=%q reason=%s allDown=%v ttl=%d",
				tc.name, a.DC, a.Reason, a.AllDown, ttl, tc.dc, tc.reason, tc.allDown, tc.ttl)
		}
	}
}

func TestAnswerContents(t *testing.T) {
	g := mustGeo(t, foYAML)
	var a Answer
	r, _ := g.Resource("r")
	g.Resolve(r, "c", Client{}, nil, nil, &a)
	if len(a.V4) != 2 || a.V4[1] != netip.MustParseAddr("192.0.2.33") || len(a.V6) != 0 || a.CNAME != "" {
		t.Errorf("c: %+v", a)
	}
	// d has only IPv6: the caller answers NODATA for A, no failover.
	g.Resolve(r, "", Client{Src: netip.MustParseAddr("198.51.100.1")}, nil, nil, &a)
	if a.DC != "d" || len(a.V4) != 0 || len(a.V6) != 1 {
		t.Errorf("d: %+v", a)
	}
	x, _ := g.Resource("x")
	g.Resolve(x, "", Client{Src: netip.MustParseAddr("192.0.2.1")}, nil, nil, &a)
	if a.CNAME != "a.example.net." || !x.HasCNAME() || r.HasCNAME() {
		t.Errorf("cname: %+v", a)
	}
	if !r.HasDC("a") || r.HasDC("zz") {
		t.Error("HasDC")
	}
	// A Forced from another Geo is ignored rather than misindexed.
	other := mustGeo(t, foYAML)
	st, _ := adminstate.Parse("admin_state", []byte("site/a => DOWN"))
	g.Resolve(r, "", Client{Src: netip.MustParseAddr("192.0.2.1")}, other.ApplyAdmin(st), nil, &a)
	if a.DC != "a" {
		t.Errorf("foreign Forced applied: %+v", a)
	}
}

func TestUndefinedDatacenters(t *testing.T) {
	g := mustGeo(t, `
undefined_datacenters_ok: true
maps:
  m:
    datacenters: [a, b, c]
    nets: {192.0.2.0/24: [a, b, c], 198.51.100.0/24: [a]}
resources:
  r: {map: m, dcmap: {b: 192.0.2.2, c: 192.0.2.3}}
  s: {map: m, skip_first: true, dcmap: {b: 192.0.2.2, c: 192.0.2.3}}
`)
	for _, tc := range []struct{ res, src, dc string }{
		{"r", "192.0.2.1", "b"},   // a is skipped, not a failover
		{"s", "192.0.2.1", "c"},   // undefined dropped before skip_first
		{"r", "198.51.100.1", ""}, // only undefined DCs: NODATA
		{"s", "203.0.113.1", "c"}, // default a, b, c -> b, c -> c
	} {
		r, _ := g.Resource(tc.res)
		var a Answer
		g.Resolve(r, "", Client{Src: netip.MustParseAddr(tc.src)}, nil, nil, &a)
		if a.DC != tc.dc || a.Reason == ReasonFailover {
			t.Errorf("%s %s: got %+v, want dc %q", tc.res, tc.src, a, tc.dc)
		}
	}
	r, _ := g.Resource("r")
	if r.HasDC("a") {
		t.Error("undefined DC reported by HasDC")
	}
}

func TestStates(t *testing.T) {
	g := mustGeo(t, foYAML)
	st, err := adminstate.Parse("admin_state", []byte("site/b => DOWN\ngeoip/m/a => DOWN/30\ngeoip/s/a => UP\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := g.States(g.ApplyAdmin(st), fakeHealth{"*/c": true, "r/d": true}.apply(g))
	file := func(line int, pattern string) StateInfo {
		return StateInfo{Source: SourceFile, Line: line, Pattern: pattern, ForcedBy: "admin_state:" + strconv.Itoa(line)}
	}
	forcedAt := func(si, by StateInfo) StateInfo {
		si.Source, si.Line, si.Pattern, si.ForcedBy = by.Source, by.Line, by.Pattern, by.ForcedBy
		return si
	}
	for key, want := range map[string]StateInfo{
		"geoip/m/a": forcedAt(StateInfo{State: "DOWN!", RealState: "UP", ForcedTTL: 30}, file(2, "geoip/m/a")),
		"geoip/r/a": forcedAt(StateInfo{State: "DOWN!", RealState: "UP", ForcedTTL: 30}, file(2, "geoip/m/a")),
		"geoip/s/a": forcedAt(StateInfo{State: "UP!", RealState: "UP"}, file(3, "geoip/s/a")),
		"geoip/m/b": forcedAt(StateInfo{State: "DOWN!", RealState: "UP"}, file(1, "site/b")),
		"site/b":    forcedAt(StateInfo{State: "DOWN!", RealState: "UP"}, file(1, "site/b")),
		"geoip/m/c": {State: "DOWN", RealState: "DOWN"},
		"site/c":    {State: "DOWN", RealState: "DOWN"},
		"geoip/r/d": {State: "DOWN", RealState: "DOWN"},
		"geoip/m/d": {State: "UP", RealState: "UP"}, // only r's d is down
	} {
		if got := s[key]; got != want {
			t.Errorf("%s: got %+v, want %+v", key, got, want)
		}
	}
	// 4 sites, 3 resources and the map of 4 DCs each, and the 10 monitors
	// of the built-in up: 6 addresses, 4 CNAMEs.
	if len(s) != 4+4*3+4+10 {
		t.Errorf("%d states, want 30: %v", len(s), s)
	}
	keys := g.AdminKeys()
	if len(keys) != len(s) {
		t.Errorf("AdminKeys %v, want the %d state keys", keys, len(s))
	}
	for _, k := range keys {
		if _, ok := s[k]; !ok {
			t.Errorf("AdminKeys has %s, States does not", k)
		}
	}
}

// A forced state names its entry: an etcd object by key and revision, a
// line of the file by number, whichever of the overlay decides.
func TestStatesOrigin(t *testing.T) {
	g := mustGeo(t, foYAML)
	remote := &adminstate.State{Entries: []adminstate.Entry{
		{Pattern: "site/a", Down: true, Source: "etcd", Key: "/conftool/v1/sites/a", Revision: 7},
		{Pattern: "site/b", Down: true, Source: "etcd", Key: "/conftool/v1/sites/b", Revision: 8},
		{Pattern: "geoip/r/c", Down: true, TTL: 60, HasTTL: true, Source: "etcd", Key: "/conftool/v1/admin-state/geoip/r/c", Revision: 9},
	}}
	local, err := adminstate.Parse("/etc/authdns/admin_state", []byte("# override\nsite/b => UP\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := g.States(g.ApplyAdmin(adminstate.Overlay(remote, local)), nil)
	tests := []struct {
		key, state, source, forcedBy, etcdKey string
		rev                                   int64
		line                                  int
	}{
		{"site/a", "DOWN!", "etcd", "etcd /conftool/v1/sites/a@7", "/conftool/v1/sites/a", 7, 0},
		{"geoip/m/a", "DOWN!", "etcd", "etcd /conftool/v1/sites/a@7", "/conftool/v1/sites/a", 7, 0},
		{"site/b", "UP!", "file", "/etc/authdns/admin_state:2", "", 0, 2},
		{"geoip/r/c", "DOWN!", "etcd", "etcd /conftool/v1/admin-state/geoip/r/c@9", "/conftool/v1/admin-state/geoip/r/c", 9, 0},
		{"geoip/m/c", "UP", "", "", "", 0, 0},
	}
	for _, tt := range tests {
		got := s[tt.key]
		if got.State != tt.state || got.Source != tt.source || got.ForcedBy != tt.forcedBy || got.Key != tt.etcdKey ||
			got.Revision != tt.rev || got.Line != tt.line {
			t.Errorf("%s: %+v, want %s from %s %q", tt.key, got, tt.state, tt.source, tt.forcedBy)
		}
	}
	if got := s["geoip/r/c"].ForcedTTL; got != 60 {
		t.Errorf("geoip/r/c forced TTL %d, want 60", got)
	}
}

func TestResolveDoesNotAllocate(t *testing.T) {
	g := scopeGeo(t)
	r, _ := g.Resource("r")
	st, _ := adminstate.Parse("admin_state", []byte("geoip/m/b => DOWN/60\n"))
	f := g.ApplyAdmin(st)
	h := fakeHealth{"r/a": true}.apply(g)
	c := Client{Src: netip.MustParseAddr("198.51.100.1"), ECS: netip.MustParseAddr("::ffff:192.0.2.1"), ECSBits: 120, HasECS: true}
	var a Answer
	if n := testing.AllocsPerRun(100, func() { g.Resolve(r, "", c, f, h, &a) }); n != 0 {
		t.Errorf("Resolve allocates %v times per call", n)
	}
	// b (forced DOWN/60) and a (health) are down: all down, b answers.
	if a.DC != "b" || !a.AllDown || !a.HasTTL || a.TTL != 60 || a.Scope != 121 {
		t.Errorf("unexpected answer %+v", a)
	}
}

// Answer.Net promises that every address in it gets the same answer; the
// DNS server replays cached answers on that promise. Check it by sampling
// addresses inside Net for clients of every family and mapping.
func TestAnswerNetHoldsForEveryAddressInIt(t *testing.T) {
	g := scopeGeo(t)
	r, _ := g.Resource("r")
	q, _ := g.Resource("q")
	src := netip.MustParseAddr("198.51.100.7")
	ecs := func(a string) Client { return Client{Src: src, ECS: netip.MustParseAddr(a), ECSBits: 24, HasECS: true} }
	clients := []Client{
		ecs("192.0.2.0"), ecs("192.0.0.0"), ecs("192.0.2.128"), ecs("203.0.113.0"), ecs("::ffff:192.0.2.1"),
		ecs("::ffff:0:c000:201"), ecs("64:ff9b::c000:281"), ecs("2001:0:4136:e378:8000:63bf:3fff:fdd2"),
		ecs("2002:c000:281::1"), ecs("::c000:201"), ecs("2001:db8:1::"), ecs("2001:db8:2::"),
		{Src: netip.MustParseAddr("192.0.2.130")}, {Src: netip.MustParseAddr("2001:db8:1::9")},
	}
	seed := uint64(1)
	next := func() uint64 { seed = seed*6364136223846793005 + 1442695040888963407; return seed }
	for _, res := range []*Resource{r, q} {
		for _, c := range clients {
			var a Answer
			g.Resolve(res, "", c, nil, nil, &a)
			used := c.Src
			if a.UsedECS {
				used = c.ECS
			}
			if !a.Net.IsValid() || !a.Net.Contains(used) {
				t.Fatalf("%v: Net %v does not hold the address used (%v)", c, a.Net, used)
			}
			for range 200 {
				b := used.As16()
				if used.Is4() {
					v4 := used.As4()
					copy(b[12:], v4[:])
				}
				off := 0
				if used.Is4() {
					off = 96
				}
				for bit := off + a.Net.Bits(); bit < 128; bit++ {
					if next()&1 == 1 {
						b[bit/8] ^= 0x80 >> (bit % 8)
					}
				}
				other := netip.AddrFrom16(b)
				if used.Is4() {
					other = other.Unmap()
				}
				c2 := c
				if a.UsedECS {
					c2.ECS = other
				} else {
					c2.Src = other
				}
				var a2 Answer
				g.Resolve(res, "", c2, nil, nil, &a2)
				if a2.DC != a.DC || a2.Reason != a.Reason || a2.Scope != a.Scope || a2.Net != a.Net {
					t.Fatalf("%s in %v: dc=%s reason=%s scope=%d net=%v, but %s gets dc=%s reason=%s scope=%d net=%v",
						other, a.Net, a2.DC, a2.Reason, a2.Scope, a2.Net, used, a.DC, a.Reason, a.Scope, a.Net)
				}
			}
		}
	}
	var p Answer
	g.Resolve(r, "b", ecs("192.0.2.0"), nil, nil, &p)
	if p.Net.IsValid() {
		t.Errorf("a pinned answer has Net %v, want none (same for every client)", p.Net)
	}
}
