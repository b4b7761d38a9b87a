// Package dnssece2e signs a zone with the real authdns binary and
// validates its answers with a real unbound on loopback: a trust anchor
// made of the zone's DS, a stub zone pointing at authdns, dig through
// unbound for the AD bit, and dig straight at authdns for the RRSIGs and
// NSEC proofs.
package dnssece2e

import (
	"fmt"
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

func TestMain(m *testing.M) { testbin.Main(m, &binDir, "authdns") }

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// testZone has one name of each kind the validator must accept: static
// sets, a CNAME, a wildcard, an empty non-terminal (ent), DYNA and DYNC
// answers (their CNAME targets inside the zone: the resolver reaches
// nothing else), and a delegation without DS.
const testZone = `$TTL 3600
@       300 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 1800 1209600 300
@           IN NS     ns1
@           IN MX     10 mail
ns1         IN A      192.0.2.53
mail        IN A      192.0.2.25
www         IN A      192.0.2.80
www         IN AAAA   2001:db8::80
alias       IN CNAME  www
*.wild      IN TXT    "wildcard answer"
host.ent    IN A      192.0.2.9
geo     300 IN DYNA   geoip!addrs
lb      300 IN DYNC   geoip!lb
lb1         IN A      192.0.2.1
lb2         IN A      192.0.2.2
sub         IN NS     ns1.sub
ns1.sub     IN A      192.0.2.54
`

const testGeo = `maps:
  m:
    geoip2_db: %s
    datacenters: [dc1, dc2]
    map: {default: [dc1, dc2]}
resources:
  addrs:
    map: m
    dcmap: {dc1: {addrs_v4: [198.51.100.1]}, dc2: {addrs_v4: [198.51.100.2]}}
  lb:
    map: m
    dcmap: {dc1: lb1.example.org., dc2: lb2.example.org.}
`

// setup is a configuration directory for authdns: the zone, its geoip
// file, an empty key directory and authdns.yaml.
type setup struct {
	t    *testing.T
	dir  string
	keys string
}

// newSetup writes the configuration; dnssec is the `dnssec:` section's
// keys other than `keys: keys`.
func newSetup(t *testing.T, dnssec string) *setup {
	t.Helper()
	dir := t.TempDir()
	s := &setup{t: t, dir: dir, keys: filepath.Join(dir, "keys")}
	write(t, filepath.Join(dir, "zones", "example.org"), testZone)
	write(t, filepath.Join(dir, "geoip.yaml"), fmt.Sprintf(testGeo, filepath.Join(repoRoot(), "config", "geoip", "default-city.mmdb")))
	if err := os.MkdirAll(s.keys, 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "authdns.yaml"), `listen: ["127.0.0.1:0"]
zones: zones
geoip: geoip.yaml
control: off
udp_sockets: 1
dnssec:
  keys: keys
`+dnssec)
	return s
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs a command and returns its standard output; it fails the test
// on a non-zero exit.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := execOutput(name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// execOutput runs a command and returns its standard output, and its
// standard error too when it fails.
func execOutput(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out) + stderr.String(), err
	}
	return string(out), nil
}

// authdns runs a one-shot authdns subcommand.
func (s *setup) authdns(args ...string) string {
	s.t.Helper()
	return run(s.t, filepath.Join(binDir, "authdns"), args...)
}

// keygen makes a key of example.org with `authdns dnssec keygen` and
// returns its base name.
func (s *setup) keygen(args ...string) string {
	s.t.Helper()
	out := s.authdns(append([]string{"dnssec", "keygen", "example.org", "--dir", s.keys}, args...)...)
	return strings.TrimSpace(out)
}

// ds is `authdns dnssec ds example.org`: the DS lines for the parent.
func (s *setup) ds() []string {
	s.t.Helper()
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s.authdns("dnssec", "ds", "example.org", "--dir", s.keys)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		s.t.Fatal("authdns dnssec ds printed no DS")
	}
	return out
}

// server is one running authdns.
type server struct {
	*testutil.Daemon
	t    *testing.T
	addr string // 127.0.0.1:port, UDP and TCP
}

var listening = regexp.MustCompile(`msg=listening udp=(\S+)`)

func (s *setup) start() *server {
	s.t.Helper()
	srv := &server{t: s.t}
	cmd := exec.Command(filepath.Join(binDir, "authdns"), "--config", filepath.Join(s.dir, "authdns.yaml"))
	srv.Daemon = testutil.StartDaemon(s.t, cmd, func(line string) bool {
		if m := listening.FindStringSubmatch(line); m != nil {
			srv.addr = m[1]
		}
		return srv.addr != "" && strings.Contains(line, "msg=serving")
	})
	return srv
}

// dig runs dig at addr (host:port) and returns its output.
func dig(t testing.TB, addr string, args ...string) string {
	t.Helper()
	host, port := splitAddr(addr)
	return run(t, "dig", append([]string{"@" + host, "-p", port, "+time=3", "+tries=2"}, args...)...)
}

func splitAddr(a string) (string, string) {
	i := strings.LastIndex(a, ":")
	return strings.Trim(a[:i], "[]"), a[i+1:]
}

// flagsLine is dig's header flags; status its rcode.
var (
	flagsLine  = regexp.MustCompile(`;; flags: ([a-z ]*);`)
	statusLine = regexp.MustCompile(`status: ([A-Z]+)`)
)

// digResult is what a validation check reads from dig's output.
type digResult struct {
	status string
	ad     bool
	out    string
}

func parseDig(out string) digResult {
	r := digResult{out: out}
	if m := statusLine.FindStringSubmatch(out); m != nil {
		r.status = m[1]
	}
	if m := flagsLine.FindStringSubmatch(out); m != nil {
		for _, f := range strings.Fields(m[1]) {
			r.ad = r.ad || f == "ad"
		}
	}
	return r
}
