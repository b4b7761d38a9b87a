// Package authdns_test starts the real authdns binary on loopback and talks
// to it over UDP and TCP, with dig and with a Go client.
package authdns_test

import (
	"bufio"
	"bytes"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/test/internal/testbin"
	"github.com/geotraffic/geotraffic/test/internal/testutil"
	"github.com/miekg/dns"
)

var binDir string // where TestMain built authdns

func TestMain(m *testing.M) { testbin.Main(m, &binDir, "authdns") }

// server is one running authdns.
type server struct {
	t     *testing.T
	dir   string
	cmd   *exec.Cmd
	addr  string // 127.0.0.1:port
	addr6 string
	mu    sync.Mutex
	log   bytes.Buffer
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// startServer copies the default configuration into a temp dir, points it
// at free loopback ports and starts authdns.
func startServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	root := repoRoot()
	testutil.CopyTree(t, filepath.Join(root, "config", "zones"), filepath.Join(dir, "zones"))
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
`
	os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte(cfg), 0o644)
	s := &server{t: t, dir: dir}
	s.cmd = exec.Command(filepath.Join(binDir, "authdns"), "--config", filepath.Join(dir, "authdns.yaml"))
	stderr, _ := s.cmd.StderrPipe()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	ready := make(chan struct{})
	re := regexp.MustCompile(`msg=listening udp=(\S+)`)
	go func() {
		sc := bufio.NewScanner(stderr)
		var once sync.Once
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			if m := re.FindStringSubmatch(line); m != nil {
				if strings.HasPrefix(m[1], "[") {
					s.addr6 = m[1]
				} else {
					s.addr = m[1]
				}
			}
			up := s.addr != "" && s.addr6 != "" && strings.Contains(s.log.String(), "msg=serving")
			s.mu.Unlock()
			if up {
				once.Do(func() { close(ready) })
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("authdns did not start:\n%s", s.logs())
	}
	return s
}

func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func (s *server) stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
		}
	}
}

func (s *server) signal(sig os.Signal) { s.cmd.Process.Signal(sig) }

// waitLog waits until the log contains want, after index from.
func (s *server) waitLog(from int, want string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if l := s.logs(); len(l) >= from && strings.Contains(l[from:], want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("log never said %q:\n%s", want, s.logs())
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
