// Package gdnsdimporte2e runs the built `authdns import-gdnsd` on a
// production-shaped gdnsd directory, then `authdns checkconf` and the
// daemon itself on the result, and asks it DYNA names with dig.
package gdnsdimporte2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/test/internal/testbin"
)

var binDir string // where TestMain built authdns

func TestMain(m *testing.M) { testbin.Main(m, &binDir, "authdns") }

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// authdns runs the built binary and returns its exit status and output.
func authdns(t *testing.T, args ...string) (int, string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "authdns"), args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

func TestImportCheckServe(t *testing.T) {
	root := repoRoot()
	from := filepath.Join(root, "authdns", "gdnsdimport", "testdata", "gdnsd")
	out := filepath.Join(t.TempDir(), "authdns")
	code, report := authdns(t, "import-gdnsd", "--from", from, "--to", out,
		"--listen", "127.0.0.1:0", "--geoip-db-dir", filepath.Join(root, "config", "geoip"))
	if code != 0 {
		t.Fatalf("import-gdnsd: exit %d\n%s", code, report)
	}
	for _, w := range []string{
		"config-options:4: option udp_threads: not needed",
		"admin_state copied",
		"authdns accepts it",
	} {
		if !strings.Contains(report, w) {
			t.Errorf("the report lacks %q:\n%s", w, report)
		}
	}
	config := filepath.Join(out, "authdns.yaml")
	if code, msg := authdns(t, "checkconf", "--config", config); code != 0 || !strings.Contains(msg, "OK (2 zones, admin_state 2 entries") {
		t.Fatalf("checkconf: exit %d\n%s", code, msg)
	}

	var addr string
	re := regexp.MustCompile(`msg=listening udp=(\S+)`)
	testutil.StartDaemon(t, exec.Command(filepath.Join(binDir, "authdns"), "--config", config), func(line string) bool {
		if m := re.FindStringSubmatch(line); m != nil {
			addr = m[1]
		}
		return addr != "" && strings.Contains(line, "msg=serving")
	})
	host, port, _ := strings.Cut(addr, ":")
	dig := func(args ...string) string {
		full := append([]string{"@" + host, "-p", port, "+time=2", "+tries=2", "+noall", "+answer", "+comments"}, args...)
		b, err := exec.Command("dig", full...).CombinedOutput()
		if err != nil {
			t.Fatalf("dig %v: %v\n%s", full, err, b)
		}
		return string(b)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		// Paris: EU.FR => [drmrs, esams, eqiad] in geo-maps.
		{[]string{"www.example.org", "A", "+subnet=192.0.2.64/26"}, `www\.example\.org\.\s+\d+\s+IN\s+A\s+192\.0\.2\.226`},
		// metafo: eqiad forced DOWN/60 by admin_state, so codfw answers.
		{[]string{"api.example.org", "A"}, `api\.example\.org\.\s+\d+\s+IN\s+A\s+192\.0\.2\.11`},
		// The nets file: 198.18.0.0/24 => [bh].
		{[]string{"www.example.org", "A", "+subnet=198.18.0.1/32"}, `www\.example\.org\.\s+\d+\s+IN\s+A\s+127\.0\.0\.1`},
		{[]string{"chaos", "TXT", "CH", "version.bind"}, `"gdnsd/3"`},
		{[]string{"static.example.net", "A"}, `static\.example\.net\.\s+3600\s+IN\s+A\s+192\.0\.2\.80`},
	} {
		if got := dig(tt.args...); !regexp.MustCompile(tt.want).MatchString(got) {
			t.Errorf("dig %s: no %s in\n%s", strings.Join(tt.args, " "), tt.want, got)
		}
	}
}
