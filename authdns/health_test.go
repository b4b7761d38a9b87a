package authdns

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/health"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// fakeSource is a health.Source the test drives: Set records what it was
// told and (for new pairs) publishes them UP with the stable TTL of
// gdnsd's defaults; publish changes states.
type fakeSource struct {
	mu    sync.Mutex
	types map[string]*health.ServiceType
	keys  []health.Key
	sets  int
	gen   uint64
	cur   map[health.Key]health.State
	snap  *health.Snapshot
	ch    chan struct{}
}

func newFakeSource(initial map[string]health.State) *fakeSource {
	f := &fakeSource{cur: map[health.Key]health.State{}, ch: make(chan struct{}, 1)}
	for k, st := range initial {
		f.cur[key(k)] = st
	}
	return f
}

func key(s string) health.Key {
	a, svc, _ := strings.Cut(s, "/")
	return health.Key{Addr: netip.MustParseAddr(a), Service: svc}
}

func (f *fakeSource) Set(_ context.Context, types map[string]*health.ServiceType, keys []health.Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.types, f.keys = types, slices.Clone(keys)
	f.sets++
	next := map[health.Key]health.State{}
	for _, k := range keys {
		st, ok := f.cur[k]
		if !ok {
			st = health.State{TTL: 100}
		}
		next[k] = st
	}
	f.cur = next
	f.gen++
	f.snap = health.NewSnapshot(f.gen, maps.Clone(next))
}

func (f *fakeSource) Snapshot() *health.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeSource) Changed() <-chan struct{} { return f.ch }

func (f *fakeSource) publish(states map[string]health.State) {
	f.mu.Lock()
	for k, st := range states {
		f.cur[key(k)] = st
	}
	f.gen++
	f.snap = health.NewSnapshot(f.gen, maps.Clone(f.cur))
	f.mu.Unlock()
	select {
	case f.ch <- struct{}{}:
	default:
	}
}

func (f *fakeSource) lastSet() (map[string]*health.ServiceType, []health.Key, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.types, f.keys, f.sets
}

const healthConfig = `listen: ["127.0.0.1:0"]
udp_sockets: 1
zones: zones
admin_state: admin_state
service_types:
  www_http: {plugin: http_status, url_path: /healthz}
  edge_tcp: {plugin: tcp_connect, port: 443}
geoip:
  maps:
    m:
      datacenters: [dc1, dc2, dc3]
      nets: {127.0.0.0/8: [dc1, dc2, dc3], 10.9.0.0/16: [dc3, dc2]}
  resources:
    r:
      map: m
      service_types: [www_http, edge_tcp]
      dcmap:
        dc1: [192.0.2.1, 192.0.2.11]
        dc2: 192.0.2.2
        dc3: 192.0.2.3
    plain:
      map: m
      dcmap: {dc1: 192.0.2.1, dc2: 192.0.2.2, dc3: 192.0.2.3}
`

// healthZone: ttl300 has MIN 150 (MAX/2), ttl120 MIN 60, wide 600/10.
const healthZone = `$TTL 300
@ IN SOA ns1.example.com. hostmaster.example.com. 1 7200 1800 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
ttl300 IN DYNA geoip!r
ttl120 120 IN DYNA geoip!r
wide 600/10 IN DYNA geoip!r
plain IN DYNA geoip!plain
`

func healthDaemon(t *testing.T, src *fakeSource) (*Daemon, string) {
	t.Helper()
	dir := t.TempDir()
	for p, c := range map[string]string{
		"authdns.yaml":      healthConfig,
		"zones/example.com": healthZone,
		"admin_state":       "",
	} {
		p = filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := New(filepath.Join(dir, "authdns.yaml"), quietLog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Health = src
	startDaemon(t, d)
	return d, dir
}

// answer asks A for name (with ECS from ecs when not "") and returns
// the first address and its TTL.
func answer(t *testing.T, d *Daemon, name, ecs string) (string, uint32) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name+".example.com.", dns.TypeA)
	if ecs != "" {
		o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		o.SetUDPSize(1232)
		o.Option = append(o.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: netip.MustParseAddr(ecs).AsSlice()})
		m.Extra = append(m.Extra, o)
	}
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, d.Server().Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) == 0 {
		t.Fatalf("%s: no answer: %v", name, r)
	}
	var addrs []string
	for _, rr := range r.Answer {
		addrs = append(addrs, rr.(*dns.A).A.String())
	}
	slices.Sort(addrs)
	return addrs[0], r.Answer[0].Header().Ttl
}

var (
	down   = health.State{Down: true, TTL: 200, LastError: "connection refused"}
	dc1All = []string{"192.0.2.1/www_http", "192.0.2.11/www_http"}
)

func states(s health.State, keys ...string) map[string]health.State {
	out := map[string]health.State{}
	for _, k := range keys {
		out[k] = s
	}
	return out
}

func TestHealthSetBeforeServingWithEveryPair(t *testing.T) {
	// dc1 is down from the initial round: the first answer skips it.
	src := newFakeSource(states(down, dc1All...))
	d, _ := healthDaemon(t, src)
	if a, _ := answer(t, d, "ttl300", ""); a != "192.0.2.2" {
		t.Errorf("first answer %s, want dc2's 192.0.2.2", a)
	}
	types, keys, sets := src.lastSet()
	var got []string
	for _, k := range keys {
		got = append(got, k.String())
	}
	want := []string{"192.0.2.1/edge_tcp", "192.0.2.1/www_http", "192.0.2.2/edge_tcp", "192.0.2.2/www_http",
		"192.0.2.3/edge_tcp", "192.0.2.3/www_http", "192.0.2.11/edge_tcp", "192.0.2.11/www_http"}
	if !slices.Equal(got, want) || sets != 1 {
		t.Errorf("Set %d times with\n%v\nwant once with\n%v", sets, got, want)
	}
	if len(types) != 2 || types["www_http"].URLPath != "/healthz" || types["edge_tcp"].Port != 443 {
		t.Errorf("types %v", types)
	}
}

func TestHealthAnswersAndTTLs(t *testing.T) {
	src := newFakeSource(nil)
	d, dir := healthDaemon(t, src)
	for _, tc := range []struct {
		name   string
		change map[string]health.State
		admin  string
		qname  string
		ecs    string
		addr   string
		ttl    uint32
	}{
		{name: "stable UP: 100 clamped to MIN 150", qname: "ttl300", addr: "192.0.2.1", ttl: 150},
		{name: "stable UP: 100 within [60, 120]", qname: "ttl120", addr: "192.0.2.1", ttl: 100},
		{name: "unmonitored resource answers MAX", qname: "plain", addr: "192.0.2.1", ttl: 300},
		{name: "a pair accumulating failures shortens the TTL", change: map[string]health.State{"192.0.2.11/edge_tcp": {TTL: 30}},
			qname: "wide", addr: "192.0.2.1", ttl: 30},
		{name: "one of two dc1 addresses down keeps dc1, answering the up one (gdnsd's multifo)", change: states(down, "192.0.2.1/www_http"),
			qname: "wide", addr: "192.0.2.11", ttl: 30},
		{name: "dc1 DOWN: dc2 answers, TTL min over dc1 and dc2", change: states(health.State{Down: true, TTL: 20}, "192.0.2.11/edge_tcp"),
			qname: "wide", addr: "192.0.2.2", ttl: 20},
		{name: "a client of dc3 (ECS) is unaffected", qname: "wide", ecs: "10.9.1.0", addr: "192.0.2.3", ttl: 100},
		{name: "forced UP brings dc1 back, its forced TTL MAX", admin: "geoip/r/dc1 => UP\n", qname: "wide", addr: "192.0.2.1", ttl: 600},
		{name: "forced UP/TTL", admin: "geoip/r/dc1 => UP/45\n", qname: "wide", addr: "192.0.2.1", ttl: 45},
		{name: "forced DOWN of dc2 on a monitored-down dc1: dc3", admin: "geoip/r/dc2 => DOWN/40\n", qname: "wide", addr: "192.0.2.3", ttl: 20},
		{name: "all DCs down: the first answers, TTL min over all", admin: "\n",
			change: states(health.State{Down: true, TTL: 50}, "192.0.2.2/www_http", "192.0.2.3/edge_tcp"), qname: "wide", addr: "192.0.2.1", ttl: 20},
		{name: "all DCs down, MIN clamps", qname: "ttl300", addr: "192.0.2.1", ttl: 150},
		{name: "dc1 back up", change: states(health.State{TTL: 100}, "192.0.2.1/www_http", "192.0.2.11/edge_tcp", "192.0.2.2/www_http", "192.0.2.3/edge_tcp"),
			qname: "wide", addr: "192.0.2.1", ttl: 100},
		{name: "admin_state forces dc1's pairs DOWN: dc2, the forced TTL", admin: "192.0.2.1/* => DOWN\n192.0.2.11/* => DOWN/25\n",
			qname: "wide", addr: "192.0.2.2", ttl: 25},
	} {
		if tc.admin != "" {
			if err := os.WriteFile(filepath.Join(dir, "admin_state"), []byte(tc.admin), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := d.Reload(); err != nil {
				t.Fatal(err)
			}
		}
		if tc.change != nil {
			src.publish(tc.change)
		}
		testutil.WaitFor(t, fmt.Sprintf("%s: %s answering %s TTL %d", tc.name, tc.qname, tc.addr, tc.ttl), func() bool {
			addr, ttl := answer(t, d, tc.qname, tc.ecs)
			return addr == tc.addr && ttl == tc.ttl
		})
	}
}

func TestHealthStatesAndReloadKeepsChecks(t *testing.T) {
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	failed := health.State{Down: true, TTL: 200, LastCheck: at, LastError: "connection refused"}
	src := newFakeSource(states(failed, dc1All...))
	d, dir := healthDaemon(t, src)
	s := d.State().States()
	if got := s["geoip/r/dc1"]; got.State != "DOWN" || got.RealState != "DOWN" || got.LastCheck != "2026-05-06T07:08:09Z" ||
		got.LastError != "192.0.2.1/www_http: connection refused" {
		t.Errorf("geoip/r/dc1: %+v", got)
	}
	if got := s["192.0.2.11/www_http"]; got.State != "DOWN" || got.TTL != 200 || got.LastError != "connection refused" {
		t.Errorf("192.0.2.11/www_http: %+v", got)
	}
	if got := s["192.0.2.2/edge_tcp"]; got.State != "UP" || got.TTL != 100 {
		t.Errorf("192.0.2.2/edge_tcp: %+v", got)
	}
	if v, ok := monitoredDown(t, d, "r", "dc1"); !ok || v != 1 {
		t.Errorf("authdns_monitored_down{r,dc1} = %v (%v), want 1", v, ok)
	}
	if v, ok := monitoredDown(t, d, "r", "dc2"); !ok || v != 0 {
		t.Errorf("authdns_monitored_down{r,dc2} = %v (%v), want 0", v, ok)
	}
	if _, ok := monitoredDown(t, d, "plain", "dc1"); ok {
		t.Error("authdns_monitored_down for a resource with no service types")
	}
	src.publish(states(health.State{TTL: 100}, dc1All...))
	testutil.WaitFor(t, "a health swap bringing dc1 back", func() bool {
		v, _ := gaugeValue(t, d, "authdns_health_view_swaps_total")
		return v == 1 && d.State().States()["geoip/r/dc1"].RealState == "UP"
	})
	src.publish(states(failed, dc1All...))
	testutil.WaitFor(t, "a second health swap", func() bool {
		v, _ := gaugeValue(t, d, "authdns_health_view_swaps_total")
		return v == 2
	})
	// A reload that adds an address: Set gets every pair again (the source
	// keeps the unchanged ones), and dc1 stays down without a new check.
	cfg := strings.Replace(healthConfig, "dc3: 192.0.2.3", "dc3: [192.0.2.3, 192.0.2.33]", 1)
	if err := os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	_, keys, sets := src.lastSet()
	if sets != 2 || len(keys) != 10 || !slices.Contains(keys, key("192.0.2.33/edge_tcp")) {
		t.Errorf("after reload: %d Set calls, keys %v", sets, keys)
	}
	if a, _ := answer(t, d, "ttl300", ""); a != "192.0.2.2" {
		t.Errorf("after reload: %s, want dc2 (dc1 still down)", a)
	}
	if got := d.State().States()["geoip/r/dc1"]; got.RealState != "DOWN" {
		t.Errorf("after reload geoip/r/dc1: %+v", got)
	}
	// An undefined service type is refused with its line; nothing changes.
	bad := strings.Replace(healthConfig, "[www_http, edge_tcp]", "[www_http, nope]", 1)
	os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte(bad), 0o644)
	err := d.Reload()
	if err == nil || !strings.Contains(err.Error(), `authdns.yaml:16: geoip.resources.r.service_types: no service type "nope"`) {
		t.Errorf("reload with an undefined type: %v", err)
	}
	if _, _, sets := src.lastSet(); sets != 2 {
		t.Errorf("a failed reload called Set (%d calls)", sets)
	}
}

// monitoredDown reads authdns_monitored_down{resource,dc}.
func monitoredDown(t *testing.T, d *Daemon, res, dc string) (float64, bool) {
	t.Helper()
	mfs, err := d.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "authdns_monitored_down" {
			continue
		}
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["resource"] == res && labels["dc"] == dc {
				return m.Gauge.GetValue(), true
			}
		}
	}
	return 0, false
}
