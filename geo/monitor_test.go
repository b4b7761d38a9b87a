package geo

import (
	"net/netip"
	"slices"
	"testing"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/health"
)

// Nothing sets service_types here, so every address and CNAME has one
// monitor, the built-in up (`IP/up`, `NAME./up`), except where a level
// sets down or [].
const upGeoYAML = `
maps:
  m:
    geoip2_db: db.mmdb
    datacenters: [a, b, c]
    map: {EU: [a, b, c], NA: [c, b, a]}
resources:
  syn: {map: m, dcmap: {a: 192.0.2.1, b: [192.0.2.2, 192.0.2.3], c: 192.0.2.4}}
  ref: {map: m, dcmap: {a: "%multifo!pool", b: "%simplefo!sfo", c: 192.0.2.4}}
  cn: {map: m, dcmap: {a: a.example.net., b: b.example.net., c: c.example.net.}}
  cnd: {map: m, service_types: down, dcmap: {a: a.example.net., b: b.example.net., c: c.example.net.}}
  dn: {map: m, service_types: [down], dcmap: {a: 192.0.2.1, b: 192.0.2.2, c: 192.0.2.4}}
  none: {map: m, service_types: [], dcmap: {a: 192.0.2.1, b: 192.0.2.2, c: 192.0.2.4}}
`

const upPluginsYAML = `
metafo:
  resources:
    mf: {datacenters: [p, q], dcmap: {p: 192.0.2.11, q: 192.0.2.12}}
    mc: {datacenters: [p, q], dcmap: {p: p.example.net., q: q.example.net.}}
multifo:
  pool: {lb1: 192.0.2.21, lb2: 192.0.2.22, lb3: 192.0.2.23}
simplefo:
  sfo: {primary: 192.0.2.31, secondary: 192.0.2.32}
weighted:
  w: {a: [192.0.2.41, 10], b: [192.0.2.42, 20]}
  wc: {x: [x.example.net., 10], y: [y.example.net., 5]}
`

// admin_state forces the monitors of the built-in types as any other:
// `IP/up => DOWN` takes that address down in every resource using it,
// `NAME./up => DOWN` a CNAME, `IP/down => UP` brings a down-typed one up.
func TestForcedBuiltinMonitors(t *testing.T) {
	g := mustPlugins(t, upGeoYAML, upPluginsYAML)
	for _, tc := range []struct {
		name, res, admin string
		dc, addrs        string
		down             bool
		ttl              int64
	}{
		{name: "nothing forced: up answers, MAX", res: "geoip!syn", dc: "a", addrs: "192.0.2.1", ttl: -1},
		{name: "synthesized multifo DC: IP/up DOWN fails over, MAX", res: "geoip!syn", admin: "192.0.2.1/up => DOWN",
			dc: "b", addrs: "192.0.2.2 192.0.2.3", ttl: -1},
		{name: "forced with a TTL: the visited DC's TTL", res: "geoip!syn", admin: "192.0.2.1/up => DOWN/20",
			dc: "b", addrs: "192.0.2.2 192.0.2.3", ttl: 20},
		{name: "forced UP/TTL replaces MAX", res: "geoip!syn", admin: "192.0.2.1/up => UP/30", dc: "a", addrs: "192.0.2.1", ttl: 30},
		{name: "a glob over every type", res: "geoip!syn", admin: "192.0.2.1/* => DOWN", dc: "b", addrs: "192.0.2.2 192.0.2.3", ttl: -1},
		{name: "metafo synthesized multifo", res: "metafo!mf", admin: "192.0.2.11/up => DOWN", dc: "q", addrs: "192.0.2.12", ttl: -1},
		{name: "%multifo!res: one of three down answers the others", res: "geoip!ref", admin: "192.0.2.21/up => DOWN",
			dc: "a", addrs: "192.0.2.22 192.0.2.23", ttl: -1},
		{name: "%multifo!res below up_thresh: the DC is DOWN", res: "geoip!ref", admin: "192.0.2.21/up => DOWN\n192.0.2.22/up => DOWN",
			dc: "b", addrs: "192.0.2.31", ttl: -1},
		{name: "standalone multifo below up_thresh: all, DOWN", res: "multifo!pool", admin: "192.0.2.2[12]/up => DOWN/7",
			addrs: "192.0.2.21 192.0.2.22 192.0.2.23", down: true, ttl: 7},
		{name: "standalone simplefo: the secondary", res: "simplefo!sfo", admin: "192.0.2.31/up => DOWN", addrs: "192.0.2.32", ttl: -1},
		{name: "standalone simplefo: both down", res: "simplefo!sfo", admin: "192.0.2.3[12]/up => DOWN/9",
			addrs: "192.0.2.31", down: true, ttl: 9},
		{name: "weighted: a forced address gets no weight (20 of 30 up)", res: "weighted!w", admin: "192.0.2.41/up => DOWN/25",
			addrs: "192.0.2.42", ttl: 25},
		{name: "weighted CNAMEs: a forced CNAME gets no weight (10 of 15 up)", res: "weighted!wc", admin: "y.example.net./up => DOWN/40",
			addrs: "x.example.net.", ttl: 40},
		{name: "geoip CNAME: NAME./up DOWN fails over", res: "geoip!cn", admin: "a.example.net./up => DOWN",
			dc: "b", addrs: "b.example.net.", ttl: -1},
		{name: "geoip CNAMEs all down: the first, DOWN", res: "geoip!cn", admin: "*.example.net./up => DOWN/11",
			dc: "a", addrs: "a.example.net.", down: true, ttl: 11},
		{name: "metafo CNAME", res: "metafo!mc", admin: "p.example.net./up => DOWN", dc: "q", addrs: "q.example.net.", ttl: -1},
		{name: "a CNAME is its name as written, with the dot", res: "metafo!mc", admin: "p.example.net/up => DOWN",
			dc: "p", addrs: "p.example.net.", ttl: -1},
		{name: "down-typed CNAME forced UP", res: "geoip!cnd", admin: "b.example.net./down => UP",
			dc: "b", addrs: "b.example.net.", ttl: -1},
		{name: "down-typed address forced UP", res: "geoip!dn", admin: "192.0.2.2/down => UP/50", dc: "b", addrs: "192.0.2.2", ttl: 50},
		{name: "down-typed: IP/up is no monitor of it", res: "geoip!dn", admin: "192.0.2.1/up => UP", dc: "a", addrs: "192.0.2.1",
			down: true, ttl: -1},
		{name: "service_types []: nothing to force", res: "geoip!none", admin: "192.0.2.1/* => DOWN", dc: "a", addrs: "192.0.2.1", ttl: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := adminstate.Parse("admin_state", []byte(tc.admin))
			if err != nil {
				t.Fatal(err)
			}
			var a Answer
			c := Client{Src: netip.MustParseAddr("192.0.2.5")} // EU: a, b, c
			g.Resolve(res(t, g, tc.res), "", c, g.ApplyAdmin(st), g.ApplyHealth(nil, st), &a)
			if a.DC != tc.dc || addrs(&a) != tc.addrs || a.AllDown != tc.down || ttlOf(&a) != tc.ttl {
				t.Errorf("got dc=%q addrs=%q down=%v ttl=%d, want dc=%q addrs=%q down=%v ttl=%d",
					a.DC, addrs(&a), a.AllDown, ttlOf(&a), tc.dc, tc.addrs, tc.down, tc.ttl)
			}
		})
	}
}

// HealthKeys has nothing of the built-in types (nothing checks them), but
// AdminKeys and States list their monitors, as gdnsdctl states does.
func TestBuiltinMonitorKeys(t *testing.T) {
	g := mustPlugins(t, upGeoYAML, upPluginsYAML)
	if k := g.HealthKeys(); len(k) != 0 {
		t.Errorf("HealthKeys %v, want none", k)
	}
	keys := g.AdminKeys()
	for _, k := range []string{"192.0.2.1/up", "192.0.2.1/down", "192.0.2.21/up", "192.0.2.31/up", "192.0.2.42/up",
		"a.example.net./up", "a.example.net./down", "p.example.net./up", "y.example.net./up"} {
		if !slices.Contains(keys, k) {
			t.Errorf("AdminKeys lacks %s", k)
		}
	}
	for _, k := range []string{"192.0.2.12/down", "q.example.net./down"} {
		if slices.Contains(keys, k) {
			t.Errorf("AdminKeys has %s, which no resource monitors", k)
		}
	}
	st, _ := adminstate.Parse("admin_state", []byte("192.0.2.1/up => DOWN/20\nb.example.net./down => UP\n"))
	states := g.States(g.ApplyAdmin(st), g.ApplyHealth(nil, st))
	for k, want := range map[string]StateInfo{
		"192.0.2.2/up":        {State: "UP", RealState: "UP"},
		"192.0.2.2/down":      {State: "DOWN", RealState: "DOWN"},
		"a.example.net./up":   {State: "UP", RealState: "UP"},
		"192.0.2.1/up":        {State: "DOWN!", RealState: "UP", ForcedTTL: 20, Source: SourceFile, ForcedBy: "admin_state:1", Pattern: "192.0.2.1/up", Line: 1},
		"b.example.net./down": {State: "UP!", RealState: "DOWN", Source: SourceFile, ForcedBy: "admin_state:2", Pattern: "b.example.net./down", Line: 2},
	} {
		if got := states[k]; got != want {
			t.Errorf("%s: got %+v\nwant %+v", k, got, want)
		}
	}
	for _, k := range keys {
		if _, ok := states[k]; !ok {
			t.Errorf("AdminKeys has %s, States does not", k)
		}
	}
	// The DCs above see what the forced monitors make of them.
	for k, want := range map[string]string{"geoip/syn/a": "DOWN", "geoip/cnd/b": "UP", "geoip/cnd/a": "DOWN"} {
		if got := states[k].RealState; got != want {
			t.Errorf("%s: real state %s, want %s", k, got, want)
		}
	}
}

// Forcing `IP/up` leaves a resource that checks the address with other
// types alone: up is not one of its monitors.
func TestForcedUpLeavesChecks(t *testing.T) {
	g := mustPlugins(t, "", "multifo:\n  chk: {service_types: http, lb1: 192.0.2.21}\n")
	st, _ := adminstate.Parse("admin_state", []byte("192.0.2.21/up => DOWN\n"))
	var a Answer
	g.Resolve(res(t, g, "multifo!chk"), "", Client{Src: netip.MustParseAddr("192.0.2.5")}, g.ApplyAdmin(st), g.ApplyHealth(snap(g, 100, nil), st), &a)
	if addrs(&a) != "192.0.2.21" || a.AllDown || ttlOf(&a) != 100 {
		t.Errorf("got %q down=%v ttl=%d, want 192.0.2.21 up with the check's 100", addrs(&a), a.AllDown, ttlOf(&a))
	}
	if k := g.HealthKeys(); !slices.Equal(k, []health.Key{pair("192.0.2.21/http")}) {
		t.Errorf("HealthKeys %v", k)
	}
	if k := g.AdminKeys(); slices.Contains(k, "192.0.2.21/up") {
		t.Errorf("AdminKeys %v has 192.0.2.21/up", k)
	}
}
