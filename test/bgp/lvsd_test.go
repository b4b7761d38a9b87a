package bgpe2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/test/internal/testbin"
)

// End to end: real lvsd binaries (--dry-run: in-memory IPVS, real monitors,
// real BGP) announcing to BIRD, with real HTTP backends on loopback.

var (
	lvsdOnce sync.Once
	lvsdPath string
	lvsdErr  error
)

// lvsdBinary builds cmd/lvsd once per test run.
func lvsdBinary(t testing.TB) string {
	t.Helper()
	lvsdOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lvsd-bgp-e2e-")
		if err != nil {
			lvsdErr = err
			return
		}
		lvsdPath = filepath.Join(dir, "lvsd")
		lvsdErr = testbin.Build(dir, "lvsd")
	})
	if lvsdErr != nil {
		t.Fatal(lvsdErr)
	}
	return lvsdPath
}

// backend is an HTTP real server on 127.0.0.11 that can be killed and
// brought back on the same port.
type backend struct {
	addr string
	mu   sync.Mutex
	srv  *http.Server
}

func startBackend(t testing.TB) *backend {
	t.Helper()
	b := &backend{}
	l, err := net.Listen("tcp", "127.0.0.11:0")
	if err != nil {
		t.Fatal(err)
	}
	b.addr = l.Addr().String()
	b.serve(l)
	t.Cleanup(b.kill)
	return b
}

func (b *backend) port() string { _, p, _ := net.SplitHostPort(b.addr); return p }

func (b *backend) serve(l net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go srv.Serve(l)
}

func (b *backend) kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		b.srv.Close()
		b.srv = nil
	}
}

func (b *backend) revive(t testing.TB) {
	t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger for a moment
		if l, err = net.Listen("tcp", b.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	b.serve(l)
}

// lvsdProc is one running lvsd.
type lvsdProc struct {
	cmd    *exec.Cmd
	out    *testutil.SyncBuffer
	done   chan error
	instr  string // instrumentation base URL
	exited bool
}

// lvsdPorts are the ports a director's pybal.conf uses.
type lvsdPorts struct {
	instr, bgpLocal uint16
}

func newLvsdPorts(t testing.TB) lvsdPorts {
	return lvsdPorts{instr: FreePort(t), bgpLocal: FreePort(t)}
}

// lvsdConf is the pybal.conf of director n (source 127.0.0.n, next hop
// 10.0.0.n) with one service on VIP 10.2.2.1 and a ProxyFetch monitor.
func lvsdConf(t testing.TB, n int, birdPort uint16, med int, be *backend, ports lvsdPorts) string {
	dir := t.TempDir()
	pool := writePool(t, dir, be)
	conf := fmt.Sprintf(`[global]
bgp = yes
bgp-local-asn = %d
bgp-peer-address = 127.0.0.1
bgp-peer-port = %d
bgp-nexthop-ipv4 = 10.0.0.%d
bgp-local-ips = ["127.0.0.%d"]
bgp-local-port = %d
bgp-med = %d
bgp-connect-retry = 1
bgp-withdraw-on-down = yes
bgp-communities = ["64600:%d"]
instrumentation = yes
instrumentation_ips = ["127.0.0.%d"]
instrumentation_port = %d

[web_%s]
protocol = tcp
ip = 10.2.2.1
port = %s
scheduler = wrr
config = file://%s
monitors = ["ProxyFetch"]
proxyfetch.url = ["http://web.test/health"]
proxyfetch.interval = 0.2
proxyfetch.timeout = 0.5
`, directorASN, birdPort, n, n, ports.bgpLocal, med, n, n, ports.instr, be.port(), be.port(), pool)
	return writeConf(t, dir, conf)
}

// writePool writes a pool file in dir with be as its one server.
func writePool(t testing.TB, dir string, be *backend) string {
	t.Helper()
	pool := filepath.Join(dir, "pool")
	host, _, _ := net.SplitHostPort(be.addr)
	if err := os.WriteFile(pool, []byte(fmt.Sprintf("{ 'host': '%s', 'weight': 10, 'enabled': True }\n", host)), 0o644); err != nil {
		t.Fatal(err)
	}
	return pool
}

func writeConf(t testing.TB, dir, conf string) string {
	t.Helper()
	path := filepath.Join(dir, "pybal.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startLvsd runs director n (lvsdConf) with --dry-run and args.
func startLvsd(t testing.TB, n int, birdPort uint16, med int, be *backend, args ...string) *lvsdProc {
	t.Helper()
	ports := newLvsdPorts(t)
	return runLvsd(t, n, lvsdConf(t, n, birdPort, med, be, ports), ports, args...)
}

// runLvsd runs lvsd --dry-run on conf, whose instrumentation API listens
// on 127.0.0.n:ports.instr.
func runLvsd(t testing.TB, n int, conf string, ports lvsdPorts, args ...string) *lvsdProc {
	t.Helper()
	p := &lvsdProc{out: &testutil.SyncBuffer{}, done: make(chan error, 1), instr: fmt.Sprintf("http://127.0.0.%d:%d", n, ports.instr)}
	p.cmd = exec.Command(lvsdBinary(t), append([]string{"--dry-run", "--config", conf}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if !p.exited {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("lvsd %d output:\n%s", n, tail(p.out.String(), 80))
		}
	})
	return p
}

var (
	sigterm            = syscall.SIGTERM
	regexpLvs1Incoming = regexp.MustCompile(`^<TRACE> lvs1: Incoming connection`)
)

// term sends SIGTERM and waits (bounded) for a clean exit.
func (p *lvsdProc) term(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(sigterm); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.exited = true
		if err != nil {
			t.Errorf("lvsd exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("lvsd did not exit within 20 s of SIGTERM")
	}
}

// bgpStatus reads /bgp from the instrumentation API.
func (p *lvsdProc) bgpStatus() (string, error) {
	req, _ := http.NewRequestWithContext(context.Background(), "GET", p.instr+"/bgp", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return string(body), fmt.Errorf("GET /bgp: %s", resp.Status)
	}
	return string(body), err
}

// TestLvsdFailover: two lvsd, MED 0 and MED 100, one VIP. BIRD prefers the
// primary; SIGTERM on the primary withdraws (before its Cease) and BIRD's
// best route becomes the backup's.
func TestLvsdFailover(t *testing.T) {
	bird, port := twoDirectors(t)
	be := startBackend(t)
	primary := startLvsd(t, 2, port, 0, be)
	startLvsd(t, 3, port, 100, be)
	vip := netip.MustParsePrefix("10.2.2.1/32")

	best := waitBest(t, bird, vip, "lvs1", 0)
	if best.NextHop != "10.0.0.2" || best.ASPath != "64600" || best.Communities != "(64600,2)" || best.Origin != "IGP" {
		t.Errorf("primary's route: %+v", best)
	}
	Eventually(t, 30*time.Second, "the backup's route too", func() (bool, string) {
		rs, _ := bird.Routes()
		return len(rs[vip.String()]) == 2, fmt.Sprintf("%+v", rs[vip.String()])
	})

	var status string
	Eventually(t, 10*time.Second, "/bgp to list the established peer and the VIP", func() (bool, string) {
		var err error
		status, err = primary.bgpStatus()
		return err == nil && strings.Contains(status, "10.2.2.1/32") && strings.Contains(status, "established"), fmt.Sprint(status, err)
	})
	if !json.Valid([]byte(status)) {
		t.Errorf("/bgp is not JSON: %s", status)
	}

	primary.term(t)
	waitBest(t, bird, vip, "lvs2", 100)
	waitGone(t, bird, vip, "lvs1")
	Eventually(t, 10*time.Second, "BIRD to log the Cease from lvs1", func() (bool, string) {
		l, ok := bird.FindLog(regexp.MustCompile(`^<RMT> lvs1: Received: `))
		return ok, l.Text
	})
	if ok, desc := bird.WithdrawnBeforeClose("lvs1", vip.String()); !ok {
		t.Errorf("BIRD did not see the withdraw before the session closed: %s", desc)
	}
	if out := primary.out.String(); !strings.Contains(out, "BGP withdrawals sent") {
		t.Errorf("lvsd did not log the withdrawals being sent:\n%s", tail(out, 20))
	}
}

// TestLvsdWithdrawOnDown: with bgp-withdraw-on-down the VIP leaves BIRD
// when its only backend dies, while the session stays up, and comes back
// with the backend.
func TestLvsdWithdrawOnDown(t *testing.T) {
	bird, port := twoDirectors(t)
	be := startBackend(t)
	p := startLvsd(t, 2, port, 0, be)
	vip := netip.MustParsePrefix("10.2.2.1/32")
	waitBest(t, bird, vip, "lvs1", 0)

	be.kill()
	waitGone(t, bird, vip, "lvs1")
	if !bird.Established("lvs1") {
		t.Error("the session went down with the backend; only the route should have")
	}

	be.revive(t)
	waitBest(t, bird, vip, "lvs1", 0)
	if out := p.out.String(); !strings.Contains(out, "BGP withdraw") || strings.Count(out, "BGP announce") < 2 {
		t.Errorf("lvsd log lacks the withdraw and the second announce:\n%s", tail(out, 30))
	}
}
