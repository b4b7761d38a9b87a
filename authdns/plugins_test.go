package authdns

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/miekg/dns"
)

const pluginsTestYAML = `
metafo:
  resources:
    mf: {datacenters: [p, q], dcmap: {p: 192.0.2.11, q: "%multifo!web"}}
    cn: {datacenters: [p], dcmap: {p: "%static!stc"}}
    mix: {datacenters: [p, q], dcmap: {p: "%static!stc", q: 192.0.2.41}}
multifo:
  web: [192.0.2.21, 192.0.2.22]
static:
  stc: www.example.net.
weighted:
  w: {a: [192.0.2.81, 1], b: [192.0.2.82, 1]}
`

const pluginsZone = `mf IN DYNA metafo!mf
pin IN DYNA metafo!mf/q
g IN DYNA geoip!r
cn IN DYNC metafo!cn
rf IN DYNA reflect
rfd IN DYNA reflect!DNS
w IN DYNA weighted!w
n IN DYNA null
pinq IN DYNA metafo!mix/q
`

// writeFiles writes name → content under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		p = filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ask answers one A query for name from src (through ECS ecs when valid)
// and returns the answer's addresses or CNAME target, space-separated.
func ask(t *testing.T, a *dnsserver.Answerer, snap *dnsserver.Snapshot, name string, src netip.Addr, ecs netip.Prefix) string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	if ecs.IsValid() {
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1,
			SourceNetmask: uint8(ecs.Bits()), Address: ecs.Addr().AsSlice()})
	}
	p, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(a.Answer(snap, p, src)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.CNAME:
			out = append(out, rr.Target)
		}
	}
	return strings.Join(out, " ")
}

// The plugins of DIR/plugins.yaml answer DYNA/DYNC through the caching
// answerer; per-client and random answers are never replayed.
func TestPluginAnswersFromDataDir(t *testing.T) {
	dir := t.TempDir()
	writeData(t, filepath.Join(dir, "data"), 1, pluginsZone)
	writeFiles(t, dir, map[string]string{
		"data/plugins.yaml": pluginsTestYAML,
		"authdns.yaml":      "listen: [\"127.0.0.1:0\"]\ndata: data\n",
	})
	st, err := LoadState(filepath.Join(dir, "authdns.yaml"), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	down, _ := adminstate.Parse("admin_state", []byte("metafo/mf/p => DOWN\n"))
	snap, snapDown := st.Snapshot(), st.WithAdmin(down).Snapshot()
	a := dnsserver.NewAnswerer(true)
	src := netip.MustParseAddr("198.51.100.7")
	for _, tc := range []struct {
		name string
		snap *dnsserver.Snapshot
		want string
	}{
		{"mf.example.com.", snap, "192.0.2.11"},
		{"mf.example.com.", snapDown, "192.0.2.21 192.0.2.22"},
		{"pin.example.com.", snap, "192.0.2.21 192.0.2.22"},
		{"cn.example.com.", snap, "www.example.net."},
		{"rf.example.com.", snap, "198.51.100.7"},
		{"n.example.com.", snap, "0.0.0.0"},
		{"pinq.example.com.", snap, "192.0.2.41"},
	} {
		for range 2 { // the second may come from the cache
			if got := ask(t, a, tc.snap, tc.name, src, netip.Prefix{}); got != tc.want {
				t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
			}
		}
	}
	// reflect answers each client its own address, ECS or not: a cached
	// reply would give one client another's.
	for _, c := range []string{"198.51.100.7", "198.51.100.8", "203.0.113.9"} {
		if got := ask(t, a, snap, "rf.example.com.", netip.MustParseAddr(c), netip.Prefix{}); got != c {
			t.Errorf("reflect from %s: %q", c, got)
		}
		ecs := netip.MustParsePrefix("192.0.2.0/24")
		if got := ask(t, a, snap, "rf.example.com.", netip.MustParseAddr(c), ecs); got != "192.0.2.0" {
			t.Errorf("reflect best from %s with ECS: %q", c, got)
		}
		if got := ask(t, a, snap, "rfd.example.com.", netip.MustParseAddr(c), ecs); got != c {
			t.Errorf("reflect!DNS from %s with ECS: %q", c, got)
		}
	}
	seen := map[string]bool{}
	for range 200 {
		seen[ask(t, a, snap, "w.example.com.", src, netip.Prefix{})] = true
	}
	if !seen["192.0.2.81"] || !seen["192.0.2.82"] || len(seen) != 2 {
		t.Errorf("weighted answers seen: %v (a replayed reply would show one)", seen)
	}
	if a.Stats().CacheHits == 0 {
		t.Error("nothing came from the cache: the test did not exercise it")
	}
}

func TestPluginZoneChecks(t *testing.T) {
	for _, tc := range []struct{ rec, want string }{
		{"x IN DYNA metafo!mf/zz", `resource "mf" has no datacenter "zz"`},
		{"x IN DYNA multifo!web/a", `no multifo resource "web/a"`},
		{"x IN DYNA metafo!cn", `may answer a CNAME; use DYNC`},
		{"x IN DYNA static!stc", `may answer a CNAME; use DYNC`},
		{"x IN DYNA metafo!mix/p", `may answer a CNAME; use DYNC`},
		{"x IN DYNA reflect!foo", `reflect resource "foo" is not one of dns, edns, best or both`},
		{"x IN DYNA nosuch!x", `unknown plugin "nosuch"`},
		{"x IN DYNA multifo", `plugin multifo needs a resource`},
	} {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{
			"zones/example.com": zoneText(1, tc.rec+"\n"),
			"authdns.yaml":      "listen: [\"127.0.0.1:0\"]\nzones: zones\nplugins: plugins.yaml\n",
			"plugins.yaml":      pluginsTestYAML,
		})
		_, err := LoadState(filepath.Join(dir, "authdns.yaml"), quietLog())
		if err == nil || !strings.Contains(err.Error(), "example.com:6: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want example.com:6 and %q", tc.rec, err, tc.want)
		}
	}
}

func TestPluginsConfigKey(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"zones/example.com": zoneText(1, "s IN DYNA static!st\n"),
		"authdns.yaml":      "listen: [\"127.0.0.1:0\"]\nzones: zones\nplugins:\n  static: {st: 192.0.2.5}\n",
	})
	st, err := LoadState(filepath.Join(dir, "authdns.yaml"), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if got := ask(t, dnsserver.NewAnswerer(false), st.Snapshot(), "s.example.com.", netip.MustParseAddr("192.0.2.1"), netip.Prefix{}); got != "192.0.2.5" {
		t.Errorf("inline plugins: %q", got)
	}
	for _, tc := range []struct{ cfg, want string }{
		{"listen: [\"127.0.0.1:0\"]\ndata: d\nplugins: {}\n", "authdns.yaml:3: plugins: comes from the data directory"},
		{"listen: [\"127.0.0.1:0\"]\nzones: zones\nplugins: [x]\n", "authdns.yaml:3: plugins: want a mapping"},
		{"listen: [\"127.0.0.1:0\"]\nzones: zones\nplugins:\n  static: {st: nope}\n", "authdns.yaml:4: plugins.static.st: \"nope\" is neither"},
	} {
		os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte(tc.cfg), 0o644)
		_, err := LoadState(filepath.Join(dir, "authdns.yaml"), quietLog())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// DIR/plugins.yaml is rolled out and validated with the rest of the data
// directory: a broken one refuses the bundle, named relative to DIR.
func TestStagePluginsYAML(t *testing.T) {
	d, _ := testDaemon(t, "")
	bundle := func(serial int, plugins string) *Bundle {
		dir := t.TempDir()
		writeData(t, dir, serial, "mf IN DYNA metafo!mf\n")
		writeFiles(t, dir, map[string]string{"plugins.yaml": plugins})
		b, err := ReadBundle(dir)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	before := d.State().DataDigest
	_, err := d.Stage(bundle(2, "metafo:\n  resources:\n    mf: {datacenters: [p], dcmap: {p: \"%multifo!nope\"}}\n"))
	if err == nil || !strings.Contains(err.Error(), "plugins.yaml:3: ") || !strings.Contains(err.Error(), `no multifo resource "nope"`) ||
		strings.Contains(err.Error(), ".staged") {
		t.Fatalf("broken plugins.yaml: %v", err)
	}
	if d.State().DataDigest != before {
		t.Fatal("a refused stage changed the state")
	}
	res, err := d.Stage(bundle(3, pluginsTestYAML))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(res.ID); err != nil {
		t.Fatal(err)
	}
	if got := askA(t, d, "mf.example.com."); got != "192.0.2.11" {
		t.Errorf("mf after commit: %s", got)
	}
}

// Answers chosen per query (reflect, weighted) and nested references take
// their storage from the worker: no allocation per query.
func TestPluginAnswersDoNotAllocate(t *testing.T) {
	dir := t.TempDir()
	writeData(t, filepath.Join(dir, "data"), 1, pluginsZone)
	writeFiles(t, dir, map[string]string{
		"data/plugins.yaml": pluginsTestYAML,
		"authdns.yaml":      "listen: [\"127.0.0.1:0\"]\ndata: data\n",
	})
	st, err := LoadState(filepath.Join(dir, "authdns.yaml"), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	a := dnsserver.NewAnswerer(true)
	src := netip.MustParseAddr("198.51.100.7")
	for _, name := range []string{"rf.example.com.", "w.example.com.", "mf.example.com.", "cn.example.com."} {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1,
			SourceNetmask: 24, Address: netip.MustParseAddr("203.0.113.0").AsSlice()})
		p, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(200, func() { a.Answer(snap, p, src) }); n != 0 {
			t.Errorf("%s: %.2f allocations per answer", name, n)
		}
	}
}
