package gdnsddiffe2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// dnsServer is one server under comparison.
type dnsServer struct {
	name       string // "gdnsd", "authdns", "gdnsd#2"
	addr       string // 127.0.0.1:port
	addr6      string // [::1]:port
	adminState string // the admin_state file it watches
	daemon     *testutil.Daemon
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func testdata(parts ...string) string {
	return filepath.Join(append([]string{repoRoot(), "test", "gdnsddiff", "testdata"}, parts...)...)
}

// mmdbPath is the repository's default City database; its source CSV
// lists its networks.
func mmdbPath() string { return filepath.Join(repoRoot(), "config", "geoip", "default-city.mmdb") }
func mmdbCSV() string  { return filepath.Join(repoRoot(), "config", "geoip", "default-city.csv") }

// gdnsdBinary finds gdnsd 3.x; a missing gdnsd fails the test (make
// diff-gdnsd and make test install it).
func gdnsdBinary(t testing.TB) (path, version string) {
	t.Helper()
	path, err := exec.LookPath("gdnsd")
	if err != nil {
		path = "/usr/sbin/gdnsd"
		if _, err := os.Stat(path); err != nil {
			t.Fatal("gdnsd is not installed: run `make deps-gdnsd` (scripts/apt-install gdnsd gdnsd, Debian's gdnsd 3.8.1)")
		}
	}
	out, _ := exec.Command(path).CombinedOutput() // usage text, exit 1
	m := regexp.MustCompile(`gdnsd version (\S+)`).FindStringSubmatch(string(out))
	if m == nil || !strings.HasPrefix(m[1], "3.") {
		t.Fatalf("%s is not gdnsd 3.x:\n%s", path, out)
	}
	return path, m[1]
}

var listenLine = regexp.MustCompile(`(?m)^([ \t]*)listen[ \t]*=>?.*$`)

// gdnsdCopy writes a runnable copy of the fixture under dir: the config
// directory with `listen` on 127.0.0.1 and ::1, port, and run_dir/state_dir in
// dir, the MMDB in its geoip/, and the fixture's admin_state in the
// state directory. It returns the config directory.
func gdnsdCopy(t testing.TB, dir, port string) string {
	t.Helper()
	cfgDir := filepath.Join(dir, "gdnsd")
	runDir, stateDir := filepath.Join(dir, "run"), filepath.Join(dir, "state")
	testutil.CopyTree(t, testdata("gdnsd"), cfgDir)
	for _, d := range []string{runDir, stateDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, mmdbPath(), filepath.Join(cfgDir, "geoip", "default-city.mmdb"))
	copyFile(t, testdata("state", "admin_state"), filepath.Join(stateDir, "admin_state"))
	cfgFile := filepath.Join(cfgDir, "config")
	cfg, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(listenLine.FindAllIndex(cfg, -1)); n != 1 {
		t.Fatalf("%s: want exactly one `listen` line to rewrite, found %d", cfgFile, n)
	}
	repl := fmt.Sprintf("${1}listen => [ \"127.0.0.1:%s\", \"[::1]:%s\" ]\n${1}run_dir => %q\n${1}state_dir => %q", port, port, runDir, stateDir)
	cfg = listenLine.ReplaceAll(cfg, []byte(repl))
	if err := os.WriteFile(cfgFile, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	return cfgDir
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// gdnsdCheckconf runs `gdnsd -c DIR checkconf`, which must accept the
// fixture: a fixture gdnsd rejects would prove nothing.
func gdnsdCheckconf(t testing.TB, bin, cfgDir string) {
	t.Helper()
	out, err := exec.Command(bin, "-c", cfgDir, "checkconf").CombinedOutput()
	if err != nil {
		t.Fatalf("gdnsd -c %s checkconf: %v\n%s", cfgDir, err, out)
	}
}

// startGdnsd prepares a copy of the fixture in a fresh directory and
// runs gdnsd on it in the foreground; mutate, if not nil, may edit the
// copy first.
func startGdnsd(t testing.TB, name string, mutate func(cfgDir string)) (*dnsServer, string) {
	t.Helper()
	bin, _ := gdnsdBinary(t)
	port := testutil.FreePort(t, "127.0.0.1", "::1")
	dir := t.TempDir()
	cfgDir := gdnsdCopy(t, dir, port)
	if mutate != nil {
		mutate(cfgDir)
	}
	gdnsdCheckconf(t, bin, cfgDir)
	s := &dnsServer{name: name, addr: "127.0.0.1:" + port, addr6: "[::1]:" + port, adminState: filepath.Join(dir, "state", "admin_state")}
	cmd := exec.Command(bin, "-c", cfgDir, "start")
	s.daemon = testutil.StartDaemon(t, cmd, func(line string) bool { return strings.Contains(line, "DNS listeners started") })
	return s, cfgDir
}

// importAndStartAuthdns runs `authdns import-gdnsd` on gdnsd's config
// directory, checks the result with `authdns checkconf` and serves it.
// It returns the server and the importer's output (its notes on what it
// translated differently).
func importAndStartAuthdns(t testing.TB, gdnsdCfg string) (*dnsServer, string) {
	t.Helper()
	authdns := filepath.Join(binDir, "authdns")
	out := filepath.Join(t.TempDir(), "authdns")
	port := testutil.FreePort(t, "127.0.0.1", "::1")
	addr, addr6 := "127.0.0.1:"+port, "[::1]:"+port
	imp, err := exec.Command(authdns, "import-gdnsd", "--from", gdnsdCfg, "--to", out, "--listen", addr+","+addr6).CombinedOutput()
	if err != nil {
		t.Fatalf("authdns import-gdnsd --from %s --to %s --listen %s,%s: %v\n%s", gdnsdCfg, out, addr, addr6, err, imp)
	}
	cfg := filepath.Join(out, "authdns.yaml")
	if cc, err := exec.Command(authdns, "checkconf", "--config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("authdns checkconf --config %s: %v\n%s", cfg, err, cc)
	}
	admin, err := adminStatePath(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{name: "authdns", addr: addr, addr6: addr6, adminState: admin}
	cmd := exec.Command(authdns, "--config", cfg)
	s.daemon = testutil.StartDaemon(t, cmd, func(line string) bool {
		return strings.Contains(line, "msg=serving") || strings.Contains(line, `"msg":"serving"`)
	})
	return s, string(imp)
}

// adminStatePath is the admin_state file an authdns.yaml names: its
// `admin_state` key, or DIR/admin_state with `data: DIR`. An import
// without one cannot take the admin_state scenarios: that is an error.
func adminStatePath(cfg string) (string, error) {
	data, err := os.ReadFile(cfg)
	if err != nil {
		return "", err
	}
	root, err := conf.DecodeYAML(cfg, data)
	if err != nil {
		return "", err
	}
	base := filepath.Dir(cfg)
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	if n := root.Get("admin_state"); n != nil {
		if s, ok := n.Str(); ok && s != "" {
			return abs(s), nil
		}
	}
	if n := root.Get("data"); n != nil {
		if s, ok := n.Str(); ok && s != "" {
			return filepath.Join(abs(s), "admin_state"), nil
		}
	}
	return "", fmt.Errorf("%s: no admin_state and no data directory: the import carries no admin_state, so the admin_state scenarios cannot run", cfg)
}
