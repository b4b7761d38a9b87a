package geo

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/geotraffic/geotraffic/geo/internal/mmdbgen"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

var walkRows = []mmdbgen.Row{
	row("192.0.2.0/28", "EU", "NL", "NH", "Amsterdam"),
	row("192.0.2.16/28", "EU", "FR", "IDF|75", "Paris"),
	row("192.0.2.32/28", "EU", "FR", "ARA|69", "Lyon"),
	row("192.0.2.48/28", "EU", "DE", "BE", "Berlin"),
	row("192.0.2.64/28", "NA", "US", "CA", "San Francisco"),
	row("192.0.2.80/28", "NA", "US", "TX", "Dallas"),
	row("192.0.2.96/28", "NA", "US", "VA", "Ashburn"),
	row("192.0.2.112/28", "AS", "JP", "13", "Tokyo"),
	row("192.0.2.128/28", "OC", "AU", "NSW", "Sydney"),
	row("192.0.2.144/28", "SA", "BR", "SP", "Sao Paulo"),
	row("192.0.2.160/28", "NA", "CA", "ON", "Toronto"),
	row("192.0.2.176/28", "", "", "", ""),
	row("2001:db8:1::/48", "EU", "FR", "IDF|75", "Paris"),
	row("2001:db8:2::/48", "NA", "US", "CA", ""),
}

const walkYAML = `
maps:
  m:
    geoip2_db: db.mmdb
    datacenters: [a, b, c, d]
    map:
      default: [d]
      eu:
        default: [b, a]
        fr:
          paris: [c]          # city, found past IDF and 75
        De: []                # NODATA
      NA:
        default: [a, b]
        US:
          default: [a]
          ca: [c, a]
          TX: {default: [b, c]}
        CA: [b]
      OC: [c, d]
      as: {jp: [d, c]}
resources:
  r: {map: m, dcmap: {a: 192.0.2.1, b: 192.0.2.2, c: 192.0.2.3, d: 192.0.2.4}}
`

func TestMapWalk(t *testing.T) {
	g := mustGeo(t, walkYAML, walkRows...)
	for _, tc := range []struct{ addr, want, why string }{
		{"192.0.2.1", "192.0.2.0/28 => b, a", "continent default (NL has no key)"},
		{"192.0.2.17", "192.0.2.16/28 => c", "city key under country, past two subdivisions; case-insensitive"},
		{"192.0.2.33", "192.0.2.32/28 => b, a", "no key matches below FR: EU default inherited by FR"},
		{"192.0.2.49", "192.0.2.48/28 => []", "[] is NODATA"},
		{"192.0.2.65", "192.0.2.64/28 => c, a", "state"},
		{"192.0.2.81", "192.0.2.80/28 => b, c", "nested default at state level"},
		{"192.0.2.97", "192.0.2.96/28 => a", "US default inherited by an unlisted state"},
		{"192.0.2.113", "192.0.2.112/28 => d, c", "AS without default: country list"},
		{"192.0.2.129", "192.0.2.128/28 => c, d", "continent list"},
		{"192.0.2.145", "192.0.2.144/28 => d", "unlisted continent: top default"},
		{"192.0.2.161", "192.0.2.160/28 => b", "country list (CA the country, not the state)"},
		{"192.0.2.177", "192.0.2.176/28 => d", "record without continent: top default"},
		{"192.0.2.200", "192.0.2.192/26 => d", "not in the DB: top default"},
		{"2001:db8:1::1", "2001:db8:1::/48 => c", "IPv6"},
		{"2001:db8:2::1", "2001:db8:2::/48 => c, a", "IPv6 record without city"},
	} {
		if got := lookupStr(t, g, "m", tc.addr); got != tc.want {
			t.Errorf("%s (%s): got %q, want %q", tc.addr, tc.why, got, tc.want)
		}
	}
}

func TestMapCountryDBStopsAtCountry(t *testing.T) {
	dir := t.TempDir()
	writeDB(t, dir, "db.mmdb", "Test-Country", walkRows)
	cfg, err := parseYAML(t, dir, walkYAML)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Paris needs the city level; a Country DB walks continent and country only,
	// so FR's inherited default (EU's) answers, merged with NL's equal list.
	if got, want := lookupStr(t, g, "m", "192.0.2.17"), "192.0.2.0/27 => b, a"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMapDefaultsWithoutMap(t *testing.T) {
	// nets only: everything else gets datacenters; no DB needed.
	g := mustGeo(t, `
maps:
  m:
    datacenters: [a, b]
    nets: {10.0.0.0/8: [b]}
resources:
  r: {map: m, dcmap: {a: 192.0.2.1, b: 192.0.2.2}}
`)
	for addr, want := range map[string]string{
		"10.1.1.1":     "10.0.0.0/8 => b",
		"11.1.1.1":     "11.0.0.0/8 => a, b",
		"2001:db8::1":  "::/0 => a, b",
		"::ffff:a00:1": "::ffff:10.0.0.0/104 => b",
	} {
		if got := lookupStr(t, g, "m", addr); got != want {
			t.Errorf("%s: got %q, want %q", addr, got, want)
		}
	}
}

func TestIPv4OnlyDBAndSubdivisionNames(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	rows := []mmdbgen.Row{row("192.0.2.0/24", "NA", "US", "", "")}
	if err := mmdbgen.Write(&buf, rows, mmdbgen.Options{IPVersion: 4, DatabaseType: "Test-City"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "v4.mmdb"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// A DB-IP Lite style record: subdivision names, no iso_code.
	rec := mmdbgen.Record(row("198.51.100.0/24", "NA", "US", "", "Austin"))
	rec["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Texas")}}}
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "DBIP-City-Lite", IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := tree.Insert(&net.IPNet{IP: net.IP{198, 51, 100, 0}, Mask: net.CIDRMask(24, 32)}, rec); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "dbip.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cfg, err := parseYAML(t, dir, `
maps:
  v4:
    geoip2_db: v4.mmdb
    datacenters: [a, b]
    map: {NA: [b]}
  dbip:
    geoip2_db: dbip.mmdb
    datacenters: [a, b]
    map: {NA: {US: {texas: [b]}}}
`)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ m, addr, want string }{
		{"v4", "192.0.2.1", "192.0.2.0/24 => b"},
		{"v4", "2001:db8::1", "::/0 => a, b"}, // native IPv6 with an IPv4-only DB: default
		{"v4", "::ffff:192.0.2.1", "::ffff:192.0.2.0/120 => b"},
		{"dbip", "198.51.100.1", "198.51.100.0/24 => b"},
	} {
		if got := lookupStr(t, g, tc.m, tc.addr); got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.m, tc.addr, got, tc.want)
		}
	}
}
