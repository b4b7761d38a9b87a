package geo

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/health"
)

const healthYAML = `
maps:
  m:
    datacenters: [a, b, c]
    nets: {192.0.2.0/24: [a, b, c], 198.51.100.0/24: [c]}
resources:
  www:
    map: m
    service_types: [http, tcp]
    dcmap:
      a: [192.0.2.1, 192.0.2.2]
      b: {addrs_v4: 192.0.2.3, addrs_v6: "2001:db8::3"}
      c: 192.0.2.4
  fifty:
    map: m
    service_types: http
    up_thresh: 0.14
    dcmap:
      a: [10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6, 10.0.0.7]
      b: 192.0.2.3
      c: 192.0.2.4
  plain: {map: m, dcmap: {a: 192.0.2.1, b: 192.0.2.3, c: 192.0.2.4}}
  dead: {map: m, service_types: [up, down], dcmap: {a: 192.0.2.1, b: 192.0.2.3, c: 192.0.2.4}}
  cn: {map: m, service_types: down, dcmap: {a: a.example.net., b: b.example.net., c: c.example.net.}}
`

// pair is "ADDR/SVC" as a Key.
func pair(s string) health.Key {
	a, svc, _ := strings.Cut(s, "/")
	return health.Key{Addr: netip.MustParseAddr(a), Service: svc}
}

// snap builds a Snapshot: every key of g UP with ttl, then the overrides,
// without the missing pairs.
func snap(g *Geo, ttl uint32, over map[string]health.State, missing ...string) *health.Snapshot {
	m := map[health.Key]health.State{}
	for _, k := range g.HealthKeys() {
		m[k] = health.State{TTL: ttl}
	}
	for k, st := range over {
		m[pair(k)] = st
	}
	for _, k := range missing {
		delete(m, pair(k))
	}
	return health.NewSnapshot(1, m)
}

func TestHealthKeys(t *testing.T) {
	g := mustGeo(t, healthYAML)
	var got []string
	for _, k := range g.HealthKeys() {
		got = append(got, k.String())
	}
	// Deduplicated across resources (www and fifty share 192.0.2.3/http);
	// up and down are never checked.
	want := []string{"10.0.0.1/http", "10.0.0.2/http", "10.0.0.3/http", "10.0.0.4/http", "10.0.0.5/http", "10.0.0.6/http", "10.0.0.7/http",
		"192.0.2.1/http", "192.0.2.1/tcp", "192.0.2.2/http", "192.0.2.2/tcp", "192.0.2.3/http", "192.0.2.3/tcp",
		"192.0.2.4/http", "192.0.2.4/tcp", "2001:db8::3/http", "2001:db8::3/tcp"}
	if !slices.Equal(got, want) {
		t.Errorf("HealthKeys\n got %v\nwant %v", got, want)
	}
}

func TestHealthAnswers(t *testing.T) {
	g := mustGeo(t, healthYAML)
	in := Client{Src: netip.MustParseAddr("192.0.2.50")}
	down := health.State{Down: true, TTL: 200}
	for _, tc := range []struct {
		name, res, admin string
		over             map[string]health.State
		missing          []string // pairs left out of the snapshot
		dc               string
		allDown          bool
		ttl              int64 // -1: no TTL (MAX)
	}{
		{name: "stable UP: the monitors' TTL", res: "www", dc: "a", ttl: 100},
		{name: "unmonitored resource answers MAX", res: "plain", over: map[string]health.State{"192.0.2.1/http": down}, dc: "a", ttl: -1},
		{name: "one of two down keeps the DC (1 >= ceil(2*0.5))", res: "www", over: map[string]health.State{"192.0.2.1/http": down}, dc: "a", ttl: 100},
		{name: "both down: failover, TTL min over visited", res: "www",
			over: map[string]health.State{"192.0.2.1/http": down, "192.0.2.2/tcp": {Down: true, TTL: 150}}, dc: "b", ttl: 100},
		{name: "a DOWN v6 set takes the DC down for A queries too", res: "www",
			over: map[string]health.State{"192.0.2.1/tcp": down, "192.0.2.2/tcp": down, "2001:db8::3/http": {Down: true, TTL: 40}}, dc: "c", ttl: 40},
		{name: "accumulating failures shorten the TTL", res: "www", over: map[string]health.State{"192.0.2.2/http": {TTL: 30}}, dc: "a", ttl: 30},
		{name: "a pair missing from the snapshot is UP/MAX", res: "www", missing: []string{"192.0.2.1/http"}, dc: "a", ttl: 100},
		{name: "float ceil: 0.14 x 7 needs 1", res: "fifty",
			over: map[string]health.State{"10.0.0.1/http": down, "10.0.0.2/http": down, "10.0.0.3/http": down, "10.0.0.4/http": down, "10.0.0.5/http": down, "10.0.0.6/http": down}, dc: "a", ttl: 100},
		{name: "float ceil: none of 7 up", res: "fifty",
			over: map[string]health.State{"10.0.0.1/http": down, "10.0.0.2/http": down, "10.0.0.3/http": down, "10.0.0.4/http": down, "10.0.0.5/http": down, "10.0.0.6/http": down, "10.0.0.7/http": down}, dc: "b", ttl: 100},
		{name: "all DCs down: the first answers, TTL min over all", res: "www",
			over: map[string]health.State{"192.0.2.1/http": down, "192.0.2.2/http": down, "192.0.2.3/tcp": {Down: true, TTL: 60}, "192.0.2.4/tcp": down}, dc: "a", allDown: true, ttl: 60},
		{name: "built-in down: all down, MAX", res: "dead", dc: "a", allDown: true, ttl: -1},
		{name: "built-in down on CNAMEs", res: "cn", dc: "a", allDown: true, ttl: -1},
		{name: "built-in down on a CNAME, forced UP", res: "cn", admin: "geoip/cn/b => UP", dc: "b", ttl: -1},
		{name: "forced UP beats a monitored DOWN, with MAX", res: "www", admin: "geoip/www/a => UP",
			over: map[string]health.State{"192.0.2.1/http": down, "192.0.2.2/http": down}, dc: "a", ttl: -1},
		{name: "forced UP/TTL replaces the monitors' TTL", res: "www", admin: "geoip/www/a => UP/300", dc: "a", ttl: 300},
		{name: "forced DOWN/TTL then a monitored DC", res: "www", admin: "site/a => DOWN/20", dc: "b", ttl: 20},
		{name: "forced DOWN without TTL then a monitored DC", res: "www", admin: "site/a => DOWN", dc: "b", ttl: 100},
		{name: "forced pairs DOWN take their addresses down", res: "www", admin: "192.0.2.1/http => DOWN\n192.0.2.2/* => DOWN/20",
			dc: "b", ttl: 20},
		{name: "a forced pair UP beats its monitored DOWN", res: "www", admin: "192.0.2.*/http => UP",
			over: map[string]health.State{"192.0.2.1/http": down, "192.0.2.2/http": down}, dc: "a", ttl: 100},
	} {
		st, err := adminstate.Parse("admin_state", []byte(tc.admin))
		if err != nil {
			t.Fatal(err)
		}
		s := snap(g, 100, tc.over, tc.missing...)
		r, _ := g.Resource(tc.res)
		var a Answer
		g.Resolve(r, "", in, g.ApplyAdmin(st), g.ApplyHealth(s, st), &a)
		ttl := int64(-1)
		if a.HasTTL {
			ttl = int64(a.TTL)
		}
		if a.DC != tc.dc || a.AllDown != tc.allDown || ttl != tc.ttl {
			t.Errorf("%s: got dc=%q allDown=%v ttl=%d, want dc=%q allDown=%v ttl=%d", tc.name, a.DC, a.AllDown, ttl, tc.dc, tc.allDown, tc.ttl)
		}
	}
}

func TestHealthFromAnotherGeoIsIgnored(t *testing.T) {
	g, other := mustGeo(t, healthYAML), mustGeo(t, healthYAML)
	r, _ := g.Resource("www")
	var a Answer
	s := snap(g, 100, map[string]health.State{"192.0.2.1/http": {Down: true}, "192.0.2.2/http": {Down: true}})
	g.Resolve(r, "", Client{Src: netip.MustParseAddr("192.0.2.50")}, nil, other.ApplyHealth(s, nil), &a)
	if a.DC != "a" || a.HasTTL {
		t.Errorf("got %+v, want a with no TTL", a)
	}
}

func TestHealthStates(t *testing.T) {
	g := mustGeo(t, healthYAML)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := snap(g, 100, map[string]health.State{
		"192.0.2.1/http": {Down: true, TTL: 200, LastCheck: at, LastError: "connection refused"},
		"192.0.2.2/http": {Down: true, TTL: 180, LastCheck: at.Add(-time.Second), LastError: "timeout"},
	})
	st, _ := adminstate.Parse("admin_state", []byte("geoip/fifty/a => UP\n192.0.2.4/tcp => DOWN/30\n"))
	states := g.States(g.ApplyAdmin(st), g.ApplyHealth(s, st))
	for key, want := range map[string]StateInfo{
		"geoip/www/a":    {State: "DOWN", RealState: "DOWN", TTL: 100, LastCheck: "2026-01-02T03:04:05Z", LastError: "192.0.2.1/http: connection refused"},
		"geoip/www/b":    {State: "UP", RealState: "UP", TTL: 100},
		"geoip/plain/a":  {State: "UP", RealState: "UP"},
		"192.0.2.1/http": {State: "DOWN", RealState: "DOWN", TTL: 200, LastCheck: "2026-01-02T03:04:05Z", LastError: "connection refused"},
		"192.0.2.1/tcp":  {State: "UP", RealState: "UP", TTL: 100},
		"192.0.2.4/tcp": {State: "DOWN!", RealState: "UP", TTL: 100, ForcedTTL: 30, Source: SourceFile,
			ForcedBy: "admin_state:2", Pattern: "192.0.2.4/tcp", Line: 2},
	} {
		if got := states[key]; got != want {
			t.Errorf("%s: got %+v\nwant %+v", key, got, want)
		}
	}
	if got := states["geoip/fifty/a"]; got.State != "UP!" || got.RealState != "UP" {
		t.Errorf("geoip/fifty/a: %+v", got)
	}
}
