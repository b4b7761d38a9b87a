// Package updatee2e runs real authdns servers on loopback and rolls data
// out to them with the real authdns-update, checking answers with dig.
package updatee2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/test/internal/testbin"
)

var binDir string

func TestMain(m *testing.M) { testbin.Main(m, &binDir, "authdns", "authdns-update") }

func bin(name string) string { return filepath.Join(binDir, name) }

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func mmdb() string { return filepath.Join(repoRoot(), "config", "geoip", "default-city.mmdb") }

// makeData writes a data directory from the default configuration: zones,
// geoip.yaml (database by absolute path), admin_state.
func makeData(t testing.TB, dir string) {
	t.Helper()
	root := repoRoot()
	testutil.CopyTree(t, filepath.Join(root, "config", "zones"), filepath.Join(dir, "zones"))
	geo, err := os.ReadFile(filepath.Join(root, "config", "geoip.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	geo = bytes.ReplaceAll(geo, []byte("geoip2_db: geoip/default-city.mmdb"), []byte("geoip2_db: "+mmdb()))
	writeFile(t, filepath.Join(dir, "geoip.yaml"), string(geo))
	writeFile(t, filepath.Join(dir, "admin_state"), "# forced states\n")
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// server is one running authdns with a data directory.
type server struct {
	*testutil.Daemon
	t       testing.TB
	dir     string
	addr    string // 127.0.0.1:port (UDP and TCP)
	control string // socket path
}

// startServer starts authdns in a fresh directory; extra is appended to
// its authdns.yaml.
func startServer(t testing.TB, extra string) *server {
	t.Helper()
	dir := t.TempDir()
	makeData(t, filepath.Join(dir, "data"))
	writeFile(t, filepath.Join(dir, "authdns.yaml"), "listen: [\"127.0.0.1:0\"]\ndata: data\nudp_sockets: 2\n"+extra)
	s := &server{t: t, dir: dir, control: filepath.Join(dir, "control.sock")}
	re := regexp.MustCompile(`msg=listening udp=(\S+)`)
	s.Daemon = testutil.StartDaemon(t, exec.Command(bin("authdns"), "--config", filepath.Join(dir, "authdns.yaml")), func(line string) bool {
		if m := re.FindStringSubmatch(line); m != nil && s.addr == "" {
			s.addr = m[1]
		}
		return s.addr != "" && strings.Contains(line, "msg=serving")
	})
	return s
}

// dig asks the server with the real dig and returns +short output.
func (s *server) dig(args ...string) string {
	s.t.Helper()
	i := strings.LastIndex(s.addr, ":")
	full := append([]string{"@" + s.addr[:i], "-p", s.addr[i+1:], "+time=2", "+tries=2", "+short"}, args...)
	out, err := exec.Command("dig", full...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("dig %v: %v\n%s", full, err, out)
	}
	return strings.TrimSpace(string(out))
}

// run runs a binary and returns stdout, stderr and the exit status.
func run(t *testing.T, stdin string, name string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin(name), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// gitRepo makes dir a git work tree with everything committed.
func gitRepo(t *testing.T, dir string) {
	t.Helper()
	git(t, dir, "init", "-q")
	gitCommit(t, dir, "initial")
}

func gitCommit(t *testing.T, dir, msg string) {
	t.Helper()
	git(t, dir, "add", "-A")
	git(t, dir, "-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "-q", "-m", msg)
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}
