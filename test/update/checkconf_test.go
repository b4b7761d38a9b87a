package updatee2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
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

	// An admin_state line that matches nothing is a warning, as in gdnsd:
	// the configuration is still OK.
	writeFile(t, filepath.Join(data, "admin_state"), "site/eqaid => DOWN\n")
	out, errOut, code = run(t, "", "authdns", "checkconf", "--config", cfg)
	if code != 0 || !strings.Contains(out, "OK (1 zones") ||
		!strings.Contains(errOut, "warning: "+data+"/admin_state:1: site/eqaid matches nothing") {
		t.Errorf("an admin_state typo: exit %d\n%s%s", code, out, errOut)
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

// runIn is run with the working directory dir.
func runIn(t *testing.T, dir, name string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin(name), args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// Relative paths (the configuration file, geoip_db_dir, a geoip2_db name,
// --geoip-db-dir) resolve once, whatever the working directory.
func TestRelativePathsResolveOnce(t *testing.T) {
	top := t.TempDir()
	rel := filepath.Join(top, "rel")
	makeData(t, filepath.Join(rel, "data"))
	geoFile := filepath.Join(rel, "data", "geoip.yaml")
	geo, _ := os.ReadFile(geoFile)
	writeFile(t, geoFile, strings.ReplaceAll(string(geo), "geoip2_db: "+mmdb(), "geoip2_db: default-city.mmdb"))
	db, _ := os.ReadFile(mmdb())
	writeFile(t, filepath.Join(rel, "dbs", "default-city.mmdb"), string(db))
	writeFile(t, filepath.Join(rel, "authdns.yaml"), "listen: [\"127.0.0.1:0\"]\ndata: data\ngeoip_db_dir: dbs\nudp_sockets: 1\n")

	if out, errOut, code := runIn(t, top, "authdns", "checkconf", "--config", "rel/authdns.yaml"); code != 0 {
		t.Errorf("checkconf --config rel/authdns.yaml: exit %d\n%s%s", code, out, errOut)
	}

	// The daemon started from the configuration's own directory.
	cmd := exec.Command(bin("authdns"), "--config", "authdns.yaml")
	cmd.Dir = rel
	d := testutil.StartDaemon(t, cmd, func(line string) bool { return strings.Contains(line, "msg=serving") })
	defer d.Stop()

	// The rollout's local validation with a relative --geoip-db-dir.
	out, errOut, code := runIn(t, top, "authdns-update", "--data", "rel/data", "--geoip-db-dir", "rel/dbs",
		"--servers", filepath.Join(rel, "control.sock"), "--diff-only", "--lock", filepath.Join(top, "lock"))
	if code != 0 || !strings.Contains(out, "rel/data validates") {
		t.Errorf("authdns-update --geoip-db-dir rel/dbs: exit %d\n%s%s", code, out, errOut)
	}
}

// A YAML syntax error is printed as file:line: YAML syntax: reason, with
// the line the problem is on (a list left open: the bracket's), for
// authdns.yaml and geoip.yaml.
func TestCheckconfYAMLSyntaxErrors(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	makeData(t, data)
	cfg := filepath.Join(dir, "authdns.yaml")
	writeFile(t, cfg, "listen: [\"127.0.0.1:0\"\ndata: data\n")
	_, errOut, code := run(t, "", "authdns", "checkconf", "--config", cfg)
	if want := cfg + ":1: YAML syntax: ',' or ']' must be specified\n"; code != 1 || errOut != want {
		t.Errorf("authdns.yaml: exit %d\n%s\nwant %s", code, errOut, want)
	}

	writeFile(t, cfg, "listen: [\"127.0.0.1:0\"]\ndata: data\n")
	geo := filepath.Join(data, "geoip.yaml")
	writeFile(t, geo, "maps:\n  m:\n    datacenters: [eqiad\n    nets: {}\n")
	_, errOut, code = run(t, "", "authdns", "checkconf", "--config", cfg)
	if want := geo + ":3: YAML syntax: ',' or ']' must be specified"; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("geoip.yaml: exit %d\n%s\nwant %s", code, errOut, want)
	}
}
