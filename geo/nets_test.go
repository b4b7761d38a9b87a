package geo

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNetsPrecedence(t *testing.T) {
	// The DB says 192.0.2.0/28 is NL (list b); nets override it whatever
	// their specificity relative to the DB, and the more specific net wins
	// whatever the order in the file.
	g := mustGeo(t, `
maps:
  m:
    geoip2_db: db.mmdb
    datacenters: [a, b, c, d]
    map: {EU: [b]}
    nets:
      192.0.2.8/29: [d]        # more specific, listed first
      192.0.0.0/16: [c]
      192.0.2.12/30: []        # NODATA inside the /29
      2001:db8::/32: [c, a]
      2001:db8:1::/48: d
resources:
  r: {map: m, dcmap: {a: 192.0.2.1, b: 192.0.2.2, c: 192.0.2.3, d: 192.0.2.4}}
`, row("192.0.2.0/28", "EU", "NL", "", ""), row("198.51.100.0/24", "EU", "NL", "", ""), row("2001:db8:1:1::/64", "EU", "NL", "", ""))
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.0/29 => c"},
		{"192.0.2.9", "192.0.2.8/30 => d"},
		{"192.0.2.13", "192.0.2.12/30 => []"},
		{"192.0.3.1", "192.0.3.0/24 => c"},
		{"198.51.100.1", "198.51.100.0/24 => b"},
		{"2001:db8:2::1", "2001:db8:2::/47 => c, a"},
		{"2001:db8:1:1::1", "2001:db8:1::/48 => d"},
	} {
		if got := lookupStr(t, g, "m", tc.addr); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.addr, got, tc.want)
		}
	}
	var a Answer
	r, _ := g.Resource("r")
	g.Resolve(r, "", Client{Src: netip.MustParseAddr("192.0.2.9")}, nil, nil, &a)
	if a.Reason != ReasonNets || a.DC != "d" {
		t.Errorf("nets answer: %+v", a)
	}
}

func TestNetsFileAndHostBits(t *testing.T) {
	dir := t.TempDir()
	file := `# gdnsd syntax works: => and ; comments
10.0.0.0/8 => [a, b]   ; ops network
10.1.2.3/16: b         # host bits: cleared with a warning
"2001:db8::/32": [b]
`
	if err := os.WriteFile(filepath.Join(dir, "nets.conf"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseYAML(t, dir, `
maps:
  m:
    datacenters: [a, b]
    nets: nets.conf
resources:
  r: {map: m, dcmap: {a: 192.0.2.1, b: 192.0.2.2}}
`)
	if err != nil {
		t.Fatal(err)
	}
	log, buf := logBuffer()
	g, err := Build(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "nets.conf:3: geoip.maps.m.nets.10.1.2.3/16: host bits past /16 cleared: using 10.1.0.0/16") {
		t.Errorf("no host-bits warning naming the file and line in the log:\n%s", buf)
	}
	for addr, want := range map[string]string{
		"10.9.0.1":    "10.8.0.0/13 => a, b",
		"10.1.200.1":  "10.1.0.0/16 => b",
		"2001:db8::1": "2001:db8::/32 => b",
	} {
		if got := lookupStr(t, g, "m", addr); got != want {
			t.Errorf("%s: got %q, want %q", addr, got, want)
		}
	}
}

func TestNetsV6CoveringV4Space(t *testing.T) {
	// gdnsd keeps IPv4 at ::/96, so ::/0 also covers IPv4; any IPv4 net is
	// more specific than it.
	g := mustGeo(t, `
maps:
  m:
    datacenters: [a, b, c]
    nets: {"::/0": [b], 10.0.0.0/8: [c]}
resources:
  r: {map: m, dcmap: {a: 192.0.2.1, b: 192.0.2.2, c: 192.0.2.3}}
`)
	for addr, want := range map[string]string{
		"192.0.2.1":   "128.0.0.0/1 => b",
		"10.0.0.1":    "10.0.0.0/8 => c",
		"2001:db8::1": "::/0 => b",
	} {
		if got := lookupStr(t, g, "m", addr); got != want {
			t.Errorf("%s: got %q, want %q", addr, got, want)
		}
	}
}
