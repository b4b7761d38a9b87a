package routinge2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/routing"
)

// authdnsConfig writes an authdns configuration that uses the committed
// zones and GeoIP maps but its own admin_state, so a test can move GeoDNS
// independently of routing.
func authdnsConfig(t *testing.T, adminState string) string {
	t.Helper()
	dir := t.TempDir()
	abs := func(p string) string {
		a, err := filepath.Abs(filepath.Join("..", "..", "config", p))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ap := filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(t, ap, adminState)
	cfg := fmt.Sprintf("listen: [127.0.0.1:5300]\nzones: %s\ngeoip: %s\nadmin_state: %s\n", abs("zones"), abs("geoip.yaml"), ap)
	p := filepath.Join(dir, "authdns.yaml")
	testutil.WriteAtomic(t, p, cfg)
	return p
}

func findings(t *testing.T, args ...string) ([]routing.Finding, int) {
	t.Helper()
	out, stderr, code := run(t, append([]string{"check", "--format", "json"}, args...)...)
	var fs []routing.Finding
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("exit %d, %v:\n%s\n%s", code, err, out, stderr)
	}
	return fs, code
}

func codes(fs []routing.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code+" "+f.Cluster+"/"+f.Site)
	}
	return strings.Join(out, "|")
}

func TestCheckDefaultConfigsAgree(t *testing.T) {
	out, stderr, code := run(t, "check", "--routing", filepath.Join("..", "..", "config", "routing.yaml"),
		"--authdns-config", filepath.Join("..", "..", "config", "authdns.yaml"))
	if code != 0 || !strings.Contains(out, "ok: routing and GeoDNS agree") {
		t.Fatalf("exit %d:\n%s%s", code, out, stderr)
	}
}

func TestCheckAgainstGeoDNS(t *testing.T) {
	dir := t.TempDir()
	shut := filepath.Join(dir, "routing.yaml")
	src := strings.Replace(exampleConfig(t), "    traffic_shutdown: []     #", "    traffic_shutdown: [esams]     #", 1)
	if err := os.WriteFile(shut, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	routingDown := filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(t, routingDown, "site/ulsfo => DOWN\n")

	// Hard-blocking esams while GeoDNS still sends users there, and ulsfo
	// DOWN for routing only: both warned about, exit 3.
	fs, code := findings(t, "--routing", shut, "--admin-state", routingDown, "--authdns-config", authdnsConfig(t, ""))
	if code != 3 || codes(fs) != "down-for-routing-not-dns /ulsfo|shutdown-while-dns-serves text/esams" {
		t.Fatalf("exit %d: %s", code, codes(fs))
	}

	// GeoDNS moved away from both first, as the seeds' rule asks: no warning.
	fs, code = findings(t, "--routing", shut, "--admin-state", routingDown, "--authdns-config", authdnsConfig(t, "site/ulsfo => DOWN\ngeoip/*/esams => DOWN\n"))
	if code != 0 || len(fs) != 0 {
		t.Fatalf("exit %d: %s", code, codes(fs))
	}

	// GeoDNS still sends users to sites routing cannot serve.
	fs, code = findings(t, "--routing", shut, "--admin-state", writeState(t, "site/eqiad => DOWN\nsite/codfw => DOWN\n"),
		"--authdns-config", authdnsConfig(t, "site/eqiad => DOWN\nsite/codfw => DOWN\ngeoip/*/esams => DOWN\n"))
	if code != 3 || !strings.Contains(codes(fs), "dns-site-unreachable text/ulsfo") {
		t.Fatalf("exit %d: %s", code, codes(fs))
	}
}

func writeState(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "admin_state")
	testutil.WriteAtomic(t, p, data)
	return p
}

// authdnsDataConfig writes an authdns configuration in the `data: DIR` form:
// DIR/zones and DIR/geoip.yaml are the committed ones, DIR/admin_state has
// the given content.
func authdnsDataConfig(t *testing.T, adminState string) string {
	t.Helper()
	dir := t.TempDir()
	root, err := filepath.Abs(filepath.Join("..", "..", "config"))
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "zones"), filepath.Join(data, "zones")); err != nil {
		t.Fatal(err)
	}
	geoip, err := os.ReadFile(filepath.Join(root, "geoip.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteAtomic(t, filepath.Join(data, "geoip.yaml"), string(geoip))
	testutil.WriteAtomic(t, filepath.Join(data, "admin_state"), adminState)
	p := filepath.Join(dir, "authdns.yaml")
	testutil.WriteAtomic(t, p, "listen: [127.0.0.1:5300]\ndata: data\ngeoip_db_dir: "+root+"\n")
	return p
}

// The exact command, without --admin-state: routing is checked
// under the admin_state the authdns configuration names, so a site forced
// DOWN for routing (site/ulsfo) but put back UP for every GeoDNS resource
// is warned about.
func TestCheckUsesAuthdnsAdminState(t *testing.T) {
	rp, _ := files(t, "")
	const shared = "site/ulsfo => DOWN\ngeoip/*/ulsfo => UP\n"
	for name, authdns := range map[string]string{
		"admin_state: FILE": authdnsConfig(t, shared),
		"data: DIR":         authdnsDataConfig(t, shared),
	} {
		t.Run(name, func(t *testing.T) {
			out, stderr, code := run(t, "check", "--routing", rp, "--authdns-config", authdns)
			if code != 3 || !strings.Contains(out, "warning: ulsfo: ulsfo is DOWN (admin_state line 1: site/ulsfo => DOWN) for routing, but GeoDNS still sends users here") {
				t.Fatalf("exit %d:\n%s%s", code, out, stderr)
			}
			contains(t, "stderr", stderr, "routing under "+filepath.Join(filepath.Dir(authdns)))
			// --admin-state still wins over the authdns one.
			out, stderr, code = run(t, "check", "--routing", rp, "--authdns-config", authdns, "--admin-state", writeState(t, ""))
			if code != 0 || strings.Contains(out, "ulsfo") {
				t.Fatalf("--admin-state ignored: exit %d:\n%s%s", code, out, stderr)
			}
		})
	}
}
