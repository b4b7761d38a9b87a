package realserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
)

func TestParseConfig(t *testing.T) {
	src := `# VIPs of this real server
vips: [192.0.2.30]
services:
  www:
    vips: [192.0.2.20, 2001:db8::20]
    ports: [80, 443]
  api:
    vips: 192.0.2.20
    ports: [8080, 80]
`
	got, err := ParseConfig("rs.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := "[{192.0.2.30 []} {192.0.2.20 [80 443 8080]} {2001:db8::20 [80 443]}]"
	if s := fmt.Sprint(got); s != want {
		t.Errorf("got %s, want %s", s, want)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"", "rs.yaml: no VIPs: an empty file would remove every VIP"},
		{"vips: []\n", "rs.yaml:1: vips: no VIPs"},
		{"vips: [192.0.2.1, nope]\n", "rs.yaml:1: vips: \"nope\" is not an IP address"},
		{"vips:\n  - 127.0.0.1\n", "rs.yaml:2: vips: \"127.0.0.1\" cannot be a service IP"},
		{"vip: [192.0.2.1]\n", "rs.yaml:1: vip: unknown key (expected vips or services)"},
		{"services:\n  www:\n    ports: [80]\n", "rs.yaml:3: services.www: missing vips"},
		{"services:\n  www:\n    vips: [192.0.2.1]\n    ports: [80, 70000]\n", "rs.yaml:4: services.www.ports: expected a port (1-65535), found \"70000\""},
		{"services:\n  www:\n    vips: [192.0.2.1]\n    port: 80\n", "rs.yaml:4: services.www.port: unknown key (expected vips or ports)"},
		{"services: [a]\n", "rs.yaml:1: services: expected a mapping of service names"},
		{"- 192.0.2.1\n", "rs.yaml:1: expected a mapping with vips and services"},
		{"vips: [192.0.2.1\n", "rs.yaml:1: YAML syntax"},
	} {
		_, err := ParseConfig("rs.yaml", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q...", c.src, err, c.want)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rs.yaml")
	if err := os.WriteFile(p, []byte("vips: [192.0.2.1]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := LoadConfig(p); err != nil || len(v) != 1 {
		t.Errorf("LoadConfig: %v, %v", v, err)
	}
	if _, err := LoadConfig(p + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseVIPsAndPorts(t *testing.T) {
	ports, err := ParsePorts("80, 443")
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseVIPs("192.0.2.1,2001:db8::1,192.0.2.1", ports)
	if err != nil || fmt.Sprint(v) != "[{192.0.2.1 [80 443]} {2001:db8::1 [80 443]}]" {
		t.Errorf("ParseVIPs: %v, %v", v, err)
	}
	for _, bad := range []string{"192.0.2.1,x", "::ffff:192.0.2.1", "fe80::1%eth0", "0.0.0.0"} {
		if _, err := ParseVIPs(bad, nil); err == nil {
			t.Errorf("ParseVIPs(%q) accepted", bad)
		}
	}
	if _, err := ParsePorts("80,0"); err == nil {
		t.Error("port 0 accepted")
	}
}

// FuzzParseConfig: outside input must give VIPs or located errors, never
// a panic, and never an empty list without an error.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"vips: [192.0.2.30]\n",
		"services:\n  www:\n    vips: [192.0.2.20, 2001:db8::20]\n    ports: [80, 443]\n",
		"vips: 192.0.2.1\nservices: {a: {vips: [::1], ports: 0}}\n",
		"services:\n  a:\n    vips: &x [192.0.2.1]\n  b:\n    vips: *x\n",
		"vips: [[1]]\n", "", "vips:\n", "a: 1\na: 2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vips, err := ParseConfig("f.yaml", data)
		if err != nil {
			var e *conf.Error
			if !errors.As(err, &e) || e.Pos.File != "f.yaml" {
				t.Fatalf("unlocated error: %#v", err)
			}
			return
		}
		if len(vips) == 0 {
			t.Fatal("no VIPs and no error")
		}
		for _, v := range vips {
			if !v.Addr.IsValid() || v.Addr.Zone() != "" {
				t.Fatalf("bad VIP %v", v.Addr)
			}
			for _, p := range v.Ports {
				if p == 0 {
					t.Fatal("port 0")
				}
			}
		}
	})
}

// The example in config/pybal loads.
func TestExampleConfig(t *testing.T) {
	v, err := LoadConfig("../../config/pybal/realserver.yaml")
	if err != nil || fmt.Sprint(v) != "[{10.2.2.1 [80]}]" {
		t.Errorf("example: %v, %v", v, err)
	}
}
