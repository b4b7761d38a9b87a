package zones

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadGood(t *testing.T) {
	set, err := LoadDir("testdata/good", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, z := range set.Zones() {
		names = append(names, z.Name)
	}
	if got := strings.Join(names, " "); got != "example.org. sub.example.org." {
		t.Fatalf("zones = %q (dotfiles and directories must be skipped)", got)
	}
	z := set.Zone("example.org")
	if z.Serial != 2026112101 {
		t.Errorf("serial = %d", z.Serial)
	}
	if z.NegSOA.TTL != 300 {
		t.Errorf("negative TTL = %d, want min(3600, 300)", z.NegSOA.TTL)
	}
	if set.Digest == "" {
		t.Error("no digest")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		file, want string
		strict     bool
	}{
		{"cname-beside.test", "cname-beside.test:5: CNAME at www.cname-beside.test. beside other data", false},
		{"no-soa.test", "no-soa.test:1: zone no-soa.test. has no SOA at the apex", false},
		{"no-ns.test", "no-ns.test:1: zone no-ns.test. has no NS records at the apex", false},
		{"two-soa.test", "two-soa.test:3: zone two-soa.test. has more than one SOA", false},
		{"outside.test", "outside.test:4: www.example.com. is outside zone outside.test.", true},
		{"syntax.test", "syntax.test:4: bad A A", false},
		{"escape.test", "escape.test:4:", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			dir := t.TempDir()
			data, err := os.ReadFile(filepath.Join("testdata/bad", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, tt.file), data, 0o644)
			_, err = Load(dir, nil, Options{Strict: tt.strict})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), dir) {
				t.Errorf("error does not start with the file path: %v", err)
			}
		})
	}
}

func TestLoadDuplicateZone(t *testing.T) {
	dir := t.TempDir()
	zone := "$TTL 300\n@ IN SOA a. b. 1 2 3 4 5\n@ IN NS ns1.example.com.\n"
	os.WriteFile(filepath.Join(dir, "dup.test"), []byte(zone), 0o644)
	os.WriteFile(filepath.Join(dir, "DUP.test."), []byte(zone), 0o644)
	_, err := LoadDir(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "is also loaded from") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"no-ns.test", "cname-beside.test"} {
		data, _ := os.ReadFile(filepath.Join("testdata/bad", f))
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	_, err := LoadDir(dir, nil)
	var m multiError
	if !errors.As(err, &m) || len(m) != 2 {
		t.Fatalf("want two errors, got %v", err)
	}
}

type fakeChecker map[string]bool

func (f fakeChecker) CheckDyn(plugin, res, dc string, dync bool) (any, error) {
	if !f[res] {
		return nil, errors.New("unknown resource " + res)
	}
	return res, nil
}

func TestDynRecords(t *testing.T) {
	head := "$TTL 300\n@ IN SOA a. b. 1 2 3 4 5\n@ IN NS ns1.example.com.\n"
	tests := []struct{ name, body, want string }{
		{"ok", "www 600/120 DYNA geoip!text-addrs\n*.w 300 DYNC geoip!text-addrs/eqiad\n", ""},
		{"unknown resource", "www DYNA geoip!nope\n", "d.test:4: geoip!nope: unknown resource nope"},
		{"plugin checked by the checker", "www DYNA metafo!x\n", "d.test:4: metafo!x: unknown resource x"},
		{"static beside", "www DYNA geoip!text-addrs\nwww A 192.0.2.1\n", "d.test:5: static A at www.d.test. beside DYNA"},
		{"dync beside", "www DYNC geoip!text-addrs\nwww TXT \"x\"\n", "DYNC at www.d.test. beside other data"},
		{"min above max", "www 60/120 DYNA geoip!text-addrs\n", "DYNA MIN TTL 120 is above MAX TTL 60, lowered to it"},
		{"ns target dyna", "sub NS www\nwww DYNA geoip!text-addrs\n", "NS target www.d.test. uses DYNA/DYNC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "d.test"), []byte(head+tt.body), 0o644)
			// Strict mode turns the DYN MIN clamp's warning into an error.
			set, err := Load(dir, fakeChecker{"text-addrs": true}, Options{Strict: tt.name == "min above max"})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				z := set.Zone("d.test")
				if len(z.Dyns) != 2 || z.Dyns[0].MaxTTL+z.Dyns[1].MaxTTL != 900 {
					t.Fatalf("dyns = %+v", z.Dyns)
				}
				for _, d := range z.Dyns {
					switch {
					case d.DYNC && (d.DC != "eqiad" || d.MinTTL != 150):
						t.Errorf("DYNC = %+v", d)
					case !d.DYNC && (d.MinTTL != 120 || d.Handle != "text-addrs"):
						t.Errorf("DYNA = %+v", d)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant containing %q", err, tt.want)
			}
		})
	}
}
