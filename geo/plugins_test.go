package geo

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/geo/internal/mmdbgen"
	"github.com/geotraffic/geotraffic/health"
	"github.com/geotraffic/geotraffic/internal/conf"
)

// parsePlugins parses geoipText (none: "") as test.yaml and pluginsText as
// plugins.yaml into one Config.
func parsePlugins(t testing.TB, dir, geoipText, pluginsText string) (*Config, error) {
	t.Helper()
	cfg := &Config{}
	if geoipText != "" {
		var err error
		if cfg, err = parseYAML(t, dir, geoipText); err != nil {
			return nil, err
		}
	}
	doc, err := conf.DecodeYAML("plugins.yaml", []byte(pluginsText))
	if err != nil {
		t.Fatalf("bad test YAML: %v", err)
	}
	return cfg, cfg.ParsePlugins("plugins.yaml", doc)
}

// mustPlugins builds geoipText and pluginsText, with rows as db.mmdb.
func mustPlugins(t testing.TB, geoipText, pluginsText string) *Geo {
	t.Helper()
	dir := t.TempDir()
	writeDB(t, dir, "db.mmdb", "Test-City", []mmdbgen.Row{
		row("192.0.2.0/25", "EU", "NL", "", ""),
		row("192.0.2.128/25", "NA", "US", "", ""),
	})
	cfg, err := parsePlugins(t, dir, geoipText, pluginsText)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	g, err := Build(cfg, nil)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return g
}

// res finds plugin!name in g.
func res(t testing.TB, g *Geo, spec string) *Resource {
	t.Helper()
	plugin, name, _ := strings.Cut(spec, "!")
	r, ok := g.Lookup(plugin, name)
	if !ok {
		t.Fatalf("no resource %s", spec)
	}
	return r
}

// addrs renders an answer's addresses (and CNAME) as one string.
func addrs(a *Answer) string {
	var s []string
	for _, x := range append(slices.Clip(a.V4), a.V6...) {
		s = append(s, x.String())
	}
	if a.CNAME != "" {
		s = append(s, a.CNAME)
	}
	return strings.Join(s, " ")
}

// ttlOf is the answer's TTL, -1 for MAX.
func ttlOf(a *Answer) int64 {
	if !a.HasTTL {
		return -1
	}
	return int64(a.TTL)
}

const pluginGeoYAML = `
service_types: [http]
maps:
  m:
    geoip2_db: db.mmdb
    datacenters: [a, b, c]
    map: {EU: [a, b, c], NA: [c, b, a]}
resources:
  g:
    map: m
    dcmap:
      a: 192.0.2.1
      b: "%metafo!mf"
      c: "%reflect!best"
  gp:
    map: m
    plugin: simplefo
    dcmap:
      a: {primary: 192.0.2.1, secondary: 192.0.2.2}
      b: "!sfo"
      c: "%geoip!g/a"
  gl: {map: m, dcmap: {a: [192.0.2.1, 192.0.2.2], b: 192.0.2.9, c: 192.0.2.10}}
  gm:
    map: m
    service_types: []
    dcmap:
      a: {plugin: metafo, datacenters: [x, y], dcmap: {x: 192.0.2.7, y: 192.0.2.8}}
      b: 192.0.2.9
      c: {plugin: weighted, x: [192.0.2.10, 1]}
`

const pluginsYAML = `
metafo:
  service_types: [http]
  resources:
    mf:
      datacenters: [p, q, r]
      dcmap:
        p: [192.0.2.11, 192.0.2.12]
        q: "%multifo!web"
        r: "!web"
    skip:
      datacenters: [p, q]
      skip_first: true
      dcmap: {p: 192.0.2.11, q: "%static!st"}
    one:
      datacenters: p
      dcmap: {p: "%null"}
multifo:
  up_thresh: 0.5
  web: {lb1: 192.0.2.21, lb2: 192.0.2.22, lb3: 192.0.2.23, service_types: http}
  both: {addrs_v4: [192.0.2.31, 192.0.2.32], addrs_v6: {service_types: [tcp], a: "2001:db8::1", b: "2001:db8::2"}, service_types: http}
  ign: {service_types: http, ignore_health: true, x: 192.0.2.41, y: 192.0.2.42}
  plain: 192.0.2.51
simplefo:
  service_types: http
  sfo: {primary: 192.0.2.61, secondary: 192.0.2.62}
  sfo2:
    addrs_v4: {primary: 192.0.2.63, secondary: 192.0.2.64}
    addrs_v6: {primary: "2001:db8::63", secondary: "2001:db8::64", service_types: tcp}
static:
  st: 192.0.2.71
  st6: "2001:db8::71"
  stc: www.example.net.
weighted:
  service_types: http
  w: {a: [192.0.2.81, 10], b: [192.0.2.82, 20]}
  wg: {multi: true, g1: {x: [192.0.2.83, 5], y: [192.0.2.84, 5]}, g2: {z: [192.0.2.85, 10]}}
  wc: {service_types: [], x: [a.example.net., 10], y: [b.example.net., 5]}
  wf: {addrs_v4: {a: [192.0.2.86, 1]}, addrs_v6: {b: ["2001:db8::86", 1]}}
reflect: {}
`

func TestPluginAnswers(t *testing.T) {
	g := mustPlugins(t, pluginGeoYAML, pluginsYAML)
	eu := Client{Src: netip.MustParseAddr("192.0.2.5")}
	na := Client{Src: netip.MustParseAddr("192.0.2.200")}
	down := func(ttl uint32) health.State { return health.State{Down: true, TTL: ttl} }
	type over = map[string]health.State
	for _, tc := range []struct {
		name, res, pin, admin string
		c                     Client
		over                  over
		dc, addrs             string
		down                  bool
		ttl                   int64
	}{
		{name: "metafo: first DC", res: "metafo!mf", dc: "p", addrs: "192.0.2.11 192.0.2.12", ttl: 100},
		{name: "metafo: one of two up keeps the DC, answering the up one", res: "metafo!mf",
			over: over{"192.0.2.11/http": down(50)}, dc: "p", addrs: "192.0.2.12", ttl: 50},
		{name: "metafo: DC down, next one, TTL min over visited", res: "metafo!mf",
			over: over{"192.0.2.11/http": down(50), "192.0.2.12/http": down(60)}, dc: "q", addrs: "192.0.2.21 192.0.2.22 192.0.2.23", ttl: 50},
		{name: "metafo: all down, first answers with all its addresses", res: "metafo!mf",
			over: over{"192.0.2.11/http": down(50), "192.0.2.12/http": down(60), "192.0.2.21/http": down(40), "192.0.2.22/http": down(40)},
			dc:   "p", addrs: "192.0.2.11 192.0.2.12", down: true, ttl: 40},
		{name: "metafo: forced DOWN DC", res: "metafo!mf", admin: "metafo/mf/p => DOWN/30", dc: "q", addrs: "192.0.2.21 192.0.2.22 192.0.2.23", ttl: 30},
		{name: "metafo: site/DC forces it too", res: "metafo!mf", admin: "site/p => DOWN/30", dc: "q", addrs: "192.0.2.21 192.0.2.22 192.0.2.23", ttl: 30},
		{name: "metafo: forced UP beats health, MAX", res: "metafo!mf", admin: "metafo/mf/p => UP",
			over: over{"192.0.2.11/http": down(50), "192.0.2.12/http": down(60)}, dc: "p", addrs: "192.0.2.11 192.0.2.12", ttl: -1},
		{name: "metafo: pinned DC", res: "metafo!mf", pin: "q", dc: "q", addrs: "192.0.2.21 192.0.2.22 192.0.2.23", ttl: 100},
		{name: "metafo: skip_first", res: "metafo!skip", dc: "q", addrs: "192.0.2.71", ttl: -1},
		{name: "metafo: one bare DC referring to null", res: "metafo!one", dc: "p", addrs: "0.0.0.0 ::", ttl: -1},
		{name: "multifo: up addresses only", res: "multifo!web", over: over{"192.0.2.22/http": down(10)}, addrs: "192.0.2.21 192.0.2.23", ttl: 10},
		{name: "multifo: below ceil(3 x 0.5) = 2: all, DOWN", res: "multifo!web",
			over: over{"192.0.2.21/http": down(10), "192.0.2.22/http": down(20)}, addrs: "192.0.2.21 192.0.2.22 192.0.2.23", down: true, ttl: 10},
		{name: "multifo: a down v6 family makes it DOWN, v4 up", res: "multifo!both",
			over: over{"2001:db8::1/tcp": down(10), "2001:db8::2/tcp": down(10)}, addrs: "192.0.2.31 192.0.2.32 2001:db8::1 2001:db8::2", down: true, ttl: 10},
		{name: "multifo: addrs_v6 with its own service_types", res: "multifo!both",
			over: over{"2001:db8::1/http": down(10)}, addrs: "192.0.2.31 192.0.2.32 2001:db8::1 2001:db8::2", ttl: 100},
		{name: "multifo: ignore_health answers all, still DOWN", res: "multifo!ign",
			over: over{"192.0.2.41/http": down(10), "192.0.2.42/http": down(10)}, addrs: "192.0.2.41 192.0.2.42", down: true, ttl: 10},
		{name: "multifo: ignore_health, one down: all, UP", res: "multifo!ign",
			over: over{"192.0.2.41/http": down(10)}, addrs: "192.0.2.41 192.0.2.42", ttl: 10},
		{name: "multifo: a forced pair", res: "multifo!web", admin: "192.0.2.21/http => DOWN/5", addrs: "192.0.2.22 192.0.2.23", ttl: 5},
		{name: "multifo: unmonitored", res: "multifo!plain", addrs: "192.0.2.51", ttl: -1},
		{name: "simplefo: primary up", res: "simplefo!sfo", over: over{"192.0.2.62/http": down(10)}, addrs: "192.0.2.61", ttl: 100},
		{name: "simplefo: primary down, secondary up: min TTL", res: "simplefo!sfo",
			over: over{"192.0.2.61/http": down(10), "192.0.2.62/http": {TTL: 70}}, addrs: "192.0.2.62", ttl: 10},
		{name: "simplefo: both down: primary, secondary's TTL", res: "simplefo!sfo",
			over: over{"192.0.2.61/http": down(10), "192.0.2.62/http": down(30)}, addrs: "192.0.2.61", down: true, ttl: 30},
		{name: "simplefo: families combine", res: "simplefo!sfo2",
			over:  over{"192.0.2.63/http": down(10), "2001:db8::63/tcp": down(20), "2001:db8::64/tcp": down(30)},
			addrs: "192.0.2.64 2001:db8::63", down: true, ttl: 10},
		{name: "static", res: "static!st", addrs: "192.0.2.71", ttl: -1},
		{name: "static v6", res: "static!st6", addrs: "2001:db8::71", ttl: -1},
		{name: "static CNAME", res: "static!stc", addrs: "www.example.net.", ttl: -1},
		{name: "geoip → metafo reference", res: "geoip!g", c: na, over: over{"192.0.2.200/http": {}},
			dc: "c", addrs: "192.0.2.200", ttl: -1},
		{name: "geoip → synthesized multifo down → metafo", res: "geoip!g", c: eu, over: over{"192.0.2.1/http": down(20)},
			dc: "b", addrs: "192.0.2.11 192.0.2.12", ttl: 20},
		{name: "a referred metafo's DOWN feeds the walk", res: "geoip!g", c: eu,
			over: over{"192.0.2.1/http": down(20), "192.0.2.11/http": down(50), "192.0.2.12/http": down(60), "192.0.2.21/http": down(40), "192.0.2.22/http": down(40)},
			dc:   "c", addrs: "192.0.2.5", ttl: 20},
		{name: "geoip: forced DOWN on a referred DC", res: "geoip!g", c: eu, admin: "geoip/g/a => DOWN/15", dc: "b", addrs: "192.0.2.11 192.0.2.12", ttl: 15},
		{name: "hash with plugin in scope: simplefo", res: "geoip!gp", c: eu, over: over{"192.0.2.1/http": down(20)}, dc: "a", addrs: "192.0.2.2", ttl: 20},
		{name: "!res with plugin in scope: simplefo", res: "geoip!gp", c: na, pin: "b", dc: "b", addrs: "192.0.2.61", ttl: 100},
		{name: "%geoip!res/dc", res: "geoip!gp", c: na, dc: "c", addrs: "192.0.2.1", ttl: 100},
		{name: "%geoip!res/dc down: next DC", res: "geoip!gp", c: na, over: over{"192.0.2.1/http": down(20)}, dc: "b", addrs: "192.0.2.61", ttl: 20},
		{name: "geoip dcmap addresses answer only the up ones", res: "geoip!gl", c: eu, over: over{"192.0.2.1/http": down(20)},
			dc: "a", addrs: "192.0.2.2", ttl: 20},
		{name: "geoip synthesizes metafo", res: "geoip!gm", c: eu, dc: "a", addrs: "192.0.2.7", ttl: -1},
		{name: "synthesized metafo inherits service_types []", res: "geoip!gm", c: eu, over: over{"192.0.2.7/http": down(5)}, dc: "a", addrs: "192.0.2.7", ttl: -1},
		{name: "geoip synthesizes weighted", res: "geoip!gm", pin: "c", dc: "c", addrs: "192.0.2.10", ttl: -1},
		{name: "synthesized metafo DC forced", res: "geoip!gm", c: eu, admin: "metafo/geoip_gm_a/x => DOWN/9", dc: "a", addrs: "192.0.2.8", ttl: 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := adminstate.Parse("admin_state", []byte(tc.admin))
			if err != nil {
				t.Fatal(err)
			}
			c := tc.c
			if !c.Src.IsValid() {
				c = eu
			}
			var a Answer
			g.Resolve(res(t, g, tc.res), tc.pin, c, g.ApplyAdmin(st), g.ApplyHealth(snap(g, 100, tc.over), st), &a)
			if a.DC != tc.dc || addrs(&a) != tc.addrs || a.AllDown != tc.down || ttlOf(&a) != tc.ttl {
				t.Errorf("got dc=%q addrs=%q down=%v ttl=%d, want dc=%q addrs=%q down=%v ttl=%d",
					a.DC, addrs(&a), a.AllDown, ttlOf(&a), tc.dc, tc.addrs, tc.down, tc.ttl)
			}
		})
	}
}

// gdnsd computes multifo's threshold in float64: ceil(50 × 0.14) is 8
// (7.000000000000001 rounds up).
func TestMultifoFloatThreshold(t *testing.T) {
	var b strings.Builder
	b.WriteString("multifo:\n  fifty:\n    up_thresh: 0.14\n    service_types: http\n")
	for i := 1; i <= 50; i++ {
		fmt.Fprintf(&b, "    l%d: 10.0.0.%d\n", i, i)
	}
	g := mustPlugins(t, "", b.String())
	r := res(t, g, "multifo!fifty")
	for _, up := range []int{7, 8} {
		over := map[string]health.State{}
		for i := up + 1; i <= 50; i++ {
			over[fmt.Sprintf("10.0.0.%d/http", i)] = health.State{Down: true, TTL: 10}
		}
		var a Answer
		g.Resolve(r, "", Client{Src: netip.MustParseAddr("192.0.2.1")}, nil, g.ApplyHealth(snap(g, 100, over), nil), &a)
		wantN, wantDown := up, false
		if up < 8 {
			wantN, wantDown = 50, true
		}
		if len(a.V4) != wantN || a.AllDown != wantDown {
			t.Errorf("%d of 50 up: %d addresses, down=%v; want %d, %v", up, len(a.V4), a.AllDown, wantN, wantDown)
		}
	}
}

func TestReflect(t *testing.T) {
	g := mustPlugins(t, pluginGeoYAML, pluginsYAML)
	src := netip.MustParseAddr("198.51.100.1")
	src6 := netip.MustParseAddr("2001:db8::53")
	ecs := Client{Src: src, ECS: netip.MustParseAddr("203.0.113.0"), ECSBits: 24, HasECS: true}
	for _, tc := range []struct {
		res   string
		c     Client
		addrs string
		scope uint8
	}{
		{"best", Client{Src: src}, "198.51.100.1", 0},
		{"", Client{Src: src}, "198.51.100.1", 0},
		{"BEST", ecs, "203.0.113.0", 24},
		{"dns", ecs, "198.51.100.1", 24},
		{"edns", ecs, "203.0.113.0", 24},
		{"edns", Client{Src: src}, "0.0.0.0", 0},
		{"both", ecs, "198.51.100.1 203.0.113.0", 24},
		{"both", Client{Src: src}, "198.51.100.1", 0},
		{"best", Client{Src: src6}, "2001:db8::53", 0},
	} {
		r, ok := g.Lookup(PluginReflect, tc.res)
		if !ok {
			t.Fatalf("reflect!%s missing", tc.res)
		}
		var a Answer
		g.Resolve(r, "", tc.c, nil, nil, &a)
		if addrs(&a) != tc.addrs || a.Scope != tc.scope || !a.NoCache || a.ForAll {
			t.Errorf("reflect!%s %+v: %q scope %d nocache %v, want %q scope %d", tc.res, tc.c, addrs(&a), a.Scope, a.NoCache, tc.addrs, tc.scope)
		}
	}
	// Through a geoip resource: the map's scope and reflect's combine by
	// maximum, and the answer is never cached.
	var a Answer
	c := Client{Src: src, ECS: netip.MustParseAddr("192.0.2.128"), ECSBits: 32, HasECS: true}
	g.Resolve(res(t, g, "geoip!g"), "", c, nil, nil, &a)
	if a.DC != "c" || addrs(&a) != "192.0.2.128" || a.Scope != 32 || !a.NoCache {
		t.Errorf("geoip → reflect: %+v", a)
	}
	if _, ok := g.Lookup(PluginReflect, "nope"); ok {
		t.Error("reflect!nope exists")
	}
}

func TestPluginCacheFlags(t *testing.T) {
	g := mustPlugins(t, pluginGeoYAML, pluginsYAML)
	c := Client{Src: netip.MustParseAddr("192.0.2.5")}
	for _, tc := range []struct {
		res, pin        string
		forAll, noCache bool
	}{
		{"metafo!mf", "", true, false},
		{"multifo!web", "", true, false},
		{"static!st", "", true, false},
		{"geoip!gl", "", false, false},
		{"geoip!gm", "", false, true}, // weighted below
		{"geoip!gl", "b", true, false},
		{"geoip!g", "", false, true}, // reflect below
	} {
		var a Answer
		g.Resolve(res(t, g, tc.res), tc.pin, c, nil, nil, &a)
		if a.ForAll != tc.forAll || a.NoCache != tc.noCache {
			t.Errorf("%s/%s: forAll %v noCache %v, want %v %v", tc.res, tc.pin, a.ForAll, a.NoCache, tc.forAll, tc.noCache)
		}
	}
}

func TestPluginAdminKeysAndStates(t *testing.T) {
	g := mustPlugins(t, pluginGeoYAML, pluginsYAML)
	keys := g.AdminKeys()
	for _, k := range []string{"metafo/mf/p", "metafo/mf/r", "metafo/geoip_gm_a/y", "geoip/g/b", "site/p", "site/x",
		"192.0.2.21/http", "2001:db8::1/tcp", "192.0.2.61/http", "2001:db8::64/tcp"} {
		if !slices.Contains(keys, k) {
			t.Errorf("AdminKeys lacks %s", k)
		}
	}
	st, _ := adminstate.Parse("admin_state", []byte("metafo/mf/q => DOWN/20\n"))
	over := map[string]health.State{"192.0.2.11/http": {Down: true, TTL: 10}, "192.0.2.12/http": {Down: true, TTL: 10}}
	states := g.States(g.ApplyAdmin(st), g.ApplyHealth(snap(g, 100, over), st))
	for k, want := range map[string]string{"metafo/mf/p": "DOWN DOWN", "metafo/mf/q": "DOWN! UP", "metafo/mf/r": "UP UP",
		"geoip/g/b": "UP UP", "192.0.2.11/http": "DOWN DOWN"} {
		s, ok := states[k]
		if got := s.State + " " + s.RealState; !ok || got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
}

func TestPluginConfigErrors(t *testing.T) {
	dir := t.TempDir()
	writeDB(t, dir, "db.mmdb", "Test-City", []mmdbgen.Row{row("192.0.2.0/24", "EU", "NL", "", "")})
	geoWith := func(v string) string {
		return "maps:\n  m:\n    datacenters: [a, b]\nresources:\n  r:\n    map: m\n    dcmap:\n      a: 192.0.2.1\n      b: " + v + "\n"
	}
	for _, tc := range []struct {
		name, geo, plugins, file, marker, key, reason string
	}{
		{"unknown plugin key", "", "metafoo: {}\n", "plugins.yaml", "metafoo", "plugins.metafoo", "unknown key"},
		{"metafo needs resources", "", "metafo: {service_types: x}\n", "plugins.yaml", "metafo", "plugins.metafo.resources", "required"},
		{"metafo dcmap must match", "", "metafo:\n  resources:\n    x:\n      datacenters: [a, b]\n      dcmap: {a: 192.0.2.1}\n",
			"plugins.yaml", "dcmap", "plugins.metafo.resources.x.dcmap", "no entry for b"},
		{"metafo unknown DC", "", "metafo:\n  resources:\n    x:\n      datacenters: [a]\n      dcmap: {a: 192.0.2.1, b: 192.0.2.2}\n",
			"plugins.yaml", "dcmap", "plugins.metafo.resources.x.dcmap.b", "not a data centre"},
		{"metafo cannot synthesize geoip", "", "metafo:\n  resources:\n    x:\n      datacenters: [a]\n      dcmap:\n        a: {plugin: geoip, map: m}\n",
			"plugins.yaml", "plugin: geoip", "plugins.metafo.resources.x.dcmap.a.plugin", "cannot synthesize a resource of plugin \"geoip\""},
		{"multifo mixed families", "", "multifo:\n  x: [192.0.2.1, \"2001:db8::1\"]\n", "plugins.yaml", "x:", "plugins.multifo.x", "not an IPv4 address"},
		{"multifo unknown key next to addrs_v4", "", "multifo:\n  x: {addrs_v4: [192.0.2.1], lb: 192.0.2.2}\n", "plugins.yaml", "x:", "plugins.multifo.x.lb", "unknown key"},
		{"multifo up_thresh", "", "multifo:\n  up_thresh: 2\n  x: 192.0.2.1\n", "plugins.yaml", "up_thresh", "plugins.multifo.up_thresh", "fraction"},
		{"simplefo needs secondary", "", "simplefo:\n  x: {primary: 192.0.2.1}\n", "plugins.yaml", "x:", "plugins.simplefo.x", "needs both"},
		{"simplefo families", "", "simplefo:\n  x: {primary: 192.0.2.1, secondary: \"2001:db8::1\"}\n", "plugins.yaml", "x:", "plugins.simplefo.x.secondary", "not an IPv4"},
		{"simplefo unknown key", "", "simplefo:\n  x: {primary: 192.0.2.1, secondary: 192.0.2.2, up_thresh: 0.5}\n", "plugins.yaml", "x:", "plugins.simplefo.x.up_thresh", "unknown key"},
		{"static list", "", "static:\n  x: [192.0.2.1]\n", "plugins.yaml", "x:", "plugins.static.x", "expected an address"},
	} {
		_, err := parsePlugins(t, dir, tc.geo, tc.plugins)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		text := tc.plugins
		if tc.file == "test.yaml" {
			text = tc.geo
		}
		want := fmt.Sprintf("%s:%d: %s: ", tc.file, lineOf(t, text, tc.marker), tc.key)
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: error %q\n want it to contain %q and %q", tc.name, err, want, tc.reason)
		}
	}
	// Build checks references (gdnsd: only when a zone uses the resource).
	plugins := "metafo:\n  resources:\n    self: {datacenters: [p], dcmap: {p: \"%metafo!self\"}}\n"
	for _, tc := range []struct{ name, geo, plugins, want string }{
		{"unknown plugin", geoWith(`"%nope!x"`), "", `test.yaml:9: geoip.resources.r.dcmap.b: unknown plugin "nope"`},
		{"unknown resource", geoWith(`"%multifo!x"`), "", `test.yaml:9: geoip.resources.r.dcmap.b: no multifo resource "x"`},
		{"!res defaults to multifo", geoWith(`"!x"`), "", `no multifo resource "x"`},
		{"pin of an unknown DC", geoWith(`"%geoip!r/zz"`), "", `geoip resource "r" has no datacenter "zz"`},
		{"reflect resource", geoWith(`"%reflect!bestest"`), "", `reflect resource "bestest" is not one of dns, edns, best or both`},
		{"multifo needs a name", geoWith(`"%multifo"`), "", `plugin multifo needs a resource name`},
		{"loop", geoWith(`"%metafo!mf"`), "metafo:\n  resources:\n    mf: {datacenters: [p], dcmap: {p: \"%geoip!r\"}}\n",
			"reference loop: geoip!r → metafo!mf → geoip!r"},
		{"self", geoWith("192.0.2.2"), plugins, "reference loop: metafo!self → metafo!self"},
		{"a pinned self-reference to another DC is no loop", geoWith(`"%geoip!r/a"`), "", ""},
		{"a pinned self-reference to its own DC", geoWith(`"%geoip!r/b"`), "", "reference loop: geoip!r → geoip!r/b → geoip!r/b"},
		{"synthesized name taken", geoWith("192.0.2.2"), "multifo:\n  geoip_r_a: 192.0.2.9\n", `multifo resource "geoip_r_a" is defined twice`},
	} {
		cfg, err := parsePlugins(t, dir, tc.geo, tc.plugins)
		if err == nil {
			_, err = Build(cfg, nil)
		}
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// Parameters are filled top level → resource → synthesized DC resource,
// each level keeping what it sets.
func TestPluginInheritance(t *testing.T) {
	g := mustPlugins(t, `
service_types: [http]
up_thresh: 1
maps: {m: {datacenters: [a, b]}}
resources:
  r:
    map: m
    dcmap:
      a: [192.0.2.1, 192.0.2.2]
      b: {addrs_v4: [192.0.2.3, 192.0.2.4], up_thresh: 0.5, service_types: tcp}
  s:
    map: m
    service_types: [tcp]
    dcmap: {a: [192.0.2.1, 192.0.2.2], b: 192.0.2.3}
`, "")
	c := Client{Src: netip.MustParseAddr("192.0.2.99")}
	down := health.State{Down: true, TTL: 10}
	for _, tc := range []struct {
		res  string
		over map[string]health.State
		dc   string
	}{
		{"r", map[string]health.State{"192.0.2.1/http": down}, "b"},                         // up_thresh 1 from the top
		{"r", map[string]health.State{"192.0.2.1/http": down, "192.0.2.3/tcp": down}, "b"},  // b: its own 0.5 and tcp
		{"r", map[string]health.State{"192.0.2.1/http": down, "192.0.2.3/http": down}, "b"}, // b checks tcp only
		{"s", map[string]health.State{"192.0.2.1/http": down}, "a"},                         // s: its own tcp
		{"s", map[string]health.State{"192.0.2.1/tcp": down}, "b"},                          // with the top's up_thresh 1
		{"r", map[string]health.State{"192.0.2.3/tcp": down, "192.0.2.4/tcp": down}, "a"},   // a is fine
	} {
		var a Answer
		r, _ := g.Resource(tc.res)
		g.Resolve(r, "", c, nil, g.ApplyHealth(snap(g, 100, tc.over), nil), &a)
		if a.DC != tc.dc {
			t.Errorf("%s %v: %s, want %s", tc.res, tc.over, a.DC, tc.dc)
		}
	}
}

func TestPluginResolveDoesNotAllocate(t *testing.T) {
	g := mustPlugins(t, pluginGeoYAML, pluginsYAML)
	st, _ := adminstate.Parse("admin_state", []byte("metafo/mf/p => DOWN/60\n"))
	f, h := g.ApplyAdmin(st), g.ApplyHealth(snap(g, 100, nil), st)
	c := Client{Src: netip.MustParseAddr("198.51.100.1"), ECS: netip.MustParseAddr("192.0.2.200"), ECSBits: 32, HasECS: true}
	a := Answer{Buf: make([]netip.Addr, ScratchAddrs)}
	for _, spec := range []string{"geoip!g", "metafo!mf", "multifo!both", "simplefo!sfo2", "reflect!both", "static!st", "geoip!gp", "geoip!gm",
		"weighted!w", "weighted!wg", "weighted!wc", "weighted!wf"} {
		r := res(t, g, spec)
		if n := testing.AllocsPerRun(100, func() { g.Resolve(r, "", c, f, h, &a) }); n != 0 {
			t.Errorf("%s: Resolve allocates %v times per call", spec, n)
		}
	}
}

// Weighted answers are random: each case draws many times and checks the
// set of answers seen (every possible one appears, nothing else does).
func TestWeighted(t *testing.T) {
	g := mustPlugins(t, pluginGeoYAML, pluginsYAML)
	down := health.State{Down: true, TTL: 30}
	c := Client{Src: netip.MustParseAddr("192.0.2.5")}
	for _, tc := range []struct {
		name, res string
		over      map[string]health.State
		seen      []string
		down      bool
		ttl       int64
	}{
		{"by weight", "weighted!w", nil, []string{"192.0.2.81", "192.0.2.82"}, false, 100},
		{"a down address gets weight 0", "weighted!w", map[string]health.State{"192.0.2.81/http": down}, []string{"192.0.2.82"}, false, 30},
		{"below ceil(30 x 0.5): all as up, DOWN", "weighted!w", map[string]health.State{"192.0.2.82/http": down}, []string{"192.0.2.81", "192.0.2.82"}, true, 30},
		{"multi: each group by weight/max, one address of it", "weighted!wg", nil, []string{"192.0.2.83 192.0.2.85", "192.0.2.84 192.0.2.85"}, false, 100},
		{"multi: a down address", "weighted!wg", map[string]health.State{"192.0.2.83/http": down}, []string{"192.0.2.84 192.0.2.85", "192.0.2.85"}, false, 30},
		{"CNAMEs", "weighted!wc", nil, []string{"a.example.net.", "b.example.net."}, false, -1},
		{"both families", "weighted!wf", nil, []string{"192.0.2.86 2001:db8::86"}, false, 100},
	} {
		r := res(t, g, tc.res)
		h := g.ApplyHealth(snap(g, 100, tc.over), nil)
		seen := map[string]bool{}
		a := Answer{Buf: make([]netip.Addr, ScratchAddrs)}
		for range 2000 {
			g.Resolve(r, "", c, nil, h, &a)
			seen[addrs(&a)] = true
			if a.AllDown != tc.down || ttlOf(&a) != tc.ttl || !a.NoCache {
				t.Fatalf("%s: down=%v ttl=%d nocache=%v, want %v %d true", tc.name, a.AllDown, ttlOf(&a), a.NoCache, tc.down, tc.ttl)
			}
		}
		var got []string
		for k := range seen {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.seen) {
			t.Errorf("%s: answers %q, want %q", tc.name, got, tc.seen)
		}
	}
}

func TestWeightedConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, marker, key, reason string }{
		{"weight 0", "weighted:\n  w: {a: [192.0.2.1, 0]}\n", "0]", "plugins.weighted.w.a", "weight must be a whole number from 1 to 1048575"},
		{"cnames stanza", "weighted:\n  w:\n    cnames: {a: [x.example.net., 1]}\n", "cnames", "plugins.weighted.w.cnames", "no longer takes a cnames stanza"},
		{"mixed", "weighted:\n  w:\n    a: [192.0.2.1, 1]\n    g: {x: [192.0.2.2, 1]}\n", "g:", "plugins.weighted.w.g", "not a mix"},
		{"family", "weighted:\n  w:\n    a: [192.0.2.1, 1]\n    b: [\"2001:db8::1\", 1]\n", "b:", "plugins.weighted.w.b", "not an IPv4 address"},
		{"addrs_v4 and items", "weighted:\n  w:\n    addrs_v4: {a: [192.0.2.1, 1]}\n    b: [192.0.2.2, 1]\n", "b:", "plugins.weighted.w.b", "unknown key"},
		{"checked CNAMEs", "weighted:\n  w: {service_types: http, a: [x.example.net., 1]}\n", "w:", "plugins.weighted.w", "CNAMEs cannot be health-checked"},
		{"not a pair", "weighted:\n  w: {a: 192.0.2.1}\n", "w:", "plugins.weighted.w.a", "expected [IP address, weight]"},
	} {
		_, err := parsePlugins(t, t.TempDir(), "", tc.text)
		want := fmt.Sprintf("plugins.yaml:%d: %s: ", lineOf(t, tc.text, tc.marker), tc.key)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: error %v\n want %q and %q", tc.name, err, want, tc.reason)
		}
	}
	g := mustPlugins(t, "", "weighted:\n  w: {a: [192.0.2.1, 1]}\n  c: {a: [x.example.net., 1]}\n")
	if res(t, g, "weighted!w").HasCNAME() || !res(t, g, "weighted!c").HasCNAME() {
		t.Error("HasCNAME wrong for weighted")
	}
}
