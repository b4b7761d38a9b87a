// Package authdnse2e starts the real authdns binary on loopback and talks
// to it over UDP and TCP, with dig and with a Go client.
package authdnse2e

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/test/internal/testbin"
	"github.com/miekg/dns"
)

var binDir string // where TestMain built authdns

func TestMain(m *testing.M) { testbin.Main(m, &binDir, "authdns") }

// server is one running authdns.
type server struct {
	*testutil.Daemon
	t     testing.TB
	dir   string
	addr  string // 127.0.0.1:port
	addr6 string
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// startServer copies the default configuration into a temp dir, points it
// at free loopback ports and starts authdns.
func startServer(t *testing.T) *server { t.Helper(); return startServerWith(t, "", "") }

// startServerWith is startServer with extra lines for authdns.yaml, an
// admin_state to start with, and extra command-line flags.
func startServerWith(t testing.TB, extraCfg, adminState string, flags ...string) *server {
	t.Helper()
	return startServerFiles(t, nil, extraCfg, adminState, flags...)
}

// startServerFiles is startServerWith with extra files (path relative to
// the configuration directory → content) written before the start.
func startServerFiles(t testing.TB, files map[string]string, extraCfg, adminState string, flags ...string) *server {
	t.Helper()
	dir := t.TempDir()
	root := repoRoot()
	testutil.CopyTree(t, filepath.Join(root, "config", "zones"), filepath.Join(dir, "zones"))
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	geoyaml, err := os.ReadFile(filepath.Join(root, "config", "geoip.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	mmdb := filepath.Join(root, "config", "geoip", "default-city.mmdb")
	geoyaml = bytes.ReplaceAll(geoyaml, []byte("geoip2_db: geoip/default-city.mmdb"), []byte("geoip2_db: "+mmdb))
	os.WriteFile(filepath.Join(dir, "geoip.yaml"), geoyaml, 0o644)
	cfg := `listen: ["127.0.0.1:0", "[::1]:0"]
zones: zones
nsid: e2e
chaos_response: geotraffic-e2e
geoip: geoip.yaml
admin_state: admin_state
udp_sockets: 2
` + extraCfg
	os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte(cfg), 0o644)
	if adminState != "" {
		os.WriteFile(filepath.Join(dir, "admin_state"), []byte(adminState), 0o644)
	}
	s := &server{t: t, dir: dir}
	// Text or JSON logs (--log-format json).
	re := regexp.MustCompile(`msg=listening udp=(\S+)|"msg":"listening","udp":"([^"]+)"`)
	cmd := exec.Command(filepath.Join(binDir, "authdns"), append([]string{"--config", filepath.Join(dir, "authdns.yaml")}, flags...)...)
	s.Daemon = testutil.StartDaemon(t, cmd, func(line string) bool {
		if m := re.FindStringSubmatch(line); m != nil {
			a := m[1] + m[2]
			if strings.HasPrefix(a, "[") {
				s.addr6 = a
			} else {
				s.addr = a
			}
		}
		return s.addr != "" && s.addr6 != "" && (strings.Contains(line, "msg=serving") || strings.Contains(line, `"msg":"serving"`))
	})
	return s
}

// dig runs the real dig against the server.
func (s *server) dig(args ...string) string {
	s.t.Helper()
	host, port := splitAddr(s.addr)
	full := append([]string{"@" + host, "-p", port, "+time=2", "+tries=2"}, args...)
	out, err := exec.Command("dig", full...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("dig %v: %v\n%s", full, err, out)
	}
	return string(out)
}

func splitAddr(a string) (string, string) {
	i := strings.LastIndex(a, ":")
	return strings.Trim(a[:i], "[]"), a[i+1:]
}

// ask sends one query with the Go client; subnet ("203.0.113.0/24") adds ECS.
func ask(addr, network, name string, qtype uint16, subnet string) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if subnet != "" {
		p := netip.MustParsePrefix(subnet)
		e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()}
		if p.Addr().Is6() {
			e.Family = 2
		}
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, e)
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, addr)
	return r, err
}
