package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeAuthdnsConfig points a copy of the default authdns.yaml at an
// admin_state with the given content.
func writeAuthdnsConfig(t *testing.T, adminState string) string {
	t.Helper()
	dir := t.TempDir()
	root, _ := filepath.Abs("../../config")
	os.WriteFile(filepath.Join(dir, "admin_state"), []byte(adminState), 0o644)
	cfg := "listen: [127.0.0.1:5300]\nzones: " + filepath.Join(root, "zones") +
		"\ngeoip: " + filepath.Join(root, "geoip.yaml") + "\nadmin_state: admin_state\n"
	path := filepath.Join(dir, "authdns.yaml")
	os.WriteFile(path, []byte(cfg), 0o644)
	return path
}

func TestLoadDNSView(t *testing.T) {
	v, err := loadDNSView(writeAuthdnsConfig(t, "site/esams => DOWN\ngeoip/text-addrs/ulsfo => DOWN\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(v.Sites(), ","); got != "codfw,drmrs,eqiad,eqsin,esams,magru,ulsfo" {
		t.Fatalf("sites = %s", got)
	}
	if !v.DNSDown("esams") {
		t.Error("site/esams DOWN must make esams DOWN for DNS")
	}
	// ulsfo is DOWN for text-addrs only: text-next and text-cname still send users there.
	if v.DNSDown("ulsfo") || v.DNSDown("eqiad") {
		t.Error("ulsfo and eqiad are still served")
	}
}

func TestLoadDNSViewBadConfig(t *testing.T) {
	_, err := loadDNSView(writeAuthdnsConfig(t, "site/esams => SIDEWAYS\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "admin_state:1:") {
		t.Fatalf("err = %v, want the admin_state file:line", err)
	}
}
