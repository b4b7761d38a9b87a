package update_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckconfReportsEveryErrorAsFileLine(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	makeData(t, data)
	cfg := filepath.Join(dir, "authdns.yaml")
	writeFile(t, cfg, "listen: [\"127.0.0.1:0\"]\ndata: data\n")
	out, errOut, code := run(t, "", "authdns", "checkconf", "--config", cfg)
	if code != 0 || !strings.Contains(out, "OK (1 zones") {
		t.Fatalf("good config: exit %d\n%s%s", code, out, errOut)
	}

	zone := filepath.Join(data, "zones", "example.org")
	orig, _ := os.ReadFile(zone)
	writeFile(t, zone, string(orig)+"broken IN A 999.1.1.1\n")
	writeFile(t, filepath.Join(data, "admin_state"), "site/esams => SIDEWAYS\n")
	geo, _ := os.ReadFile(filepath.Join(data, "geoip.yaml"))
	writeFile(t, filepath.Join(data, "geoip.yaml"), strings.Replace(string(geo), "10.0.0.0/8: [eqiad, codfw]", "10.0.0.0/8: [eqiad, nowhere]", 1))
	before, _ := os.ReadFile(zone)
	_, errOut, code = run(t, "", "authdns", "checkconf", "--config", cfg)
	if code != 1 {
		t.Fatalf("broken data: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{data + "/admin_state:1:", data + "/geoip.yaml:", data + "/zones/example.org:"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("checkconf output lacks %q:\n%s", want, errOut)
		}
	}
	if after, _ := os.ReadFile(zone); string(after) != string(before) {
		t.Error("checkconf changed a file")
	}

	writeFile(t, cfg, "listen: [\"127.0.0.1:0\"]\ndata: data\nzones: z\ncontrol_tcp: 192.0.2.1:1\n")
	_, errOut, code = run(t, "", "authdns", "checkconf", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, cfg+":3: zones:") || !strings.Contains(errOut, cfg+":4: control_tcp:") {
		t.Errorf("config errors: exit %d\n%s", code, errOut)
	}
}
