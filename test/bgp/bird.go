// Package bgpe2e runs lvsd's BGP speaker against a real router, BIRD 2,
// on loopback: BIRD is started per test in a temporary directory with its
// own control socket, and asserted on through birdc.
package bgpe2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"
)

// BirdPeer is one BGP neighbor of the BIRD router (a director).
type BirdPeer struct {
	Name    string // BIRD protocol name, e.g. "lvs1"
	Address string // the director's session source address
	ASN     uint32
	Port    uint16 // the director's bgp-local-port; BIRD connects to it when Active
}

// BirdConfig is what the test router looks like.
type BirdConfig struct {
	RouterID string // BIRD needs an explicit one
	Address  string // BIRD's listen address (127.0.0.1)
	Port     uint16 // BIRD's listen port (the directors' bgp-peer-port)
	ASN      uint32
	Peers    []BirdPeer
	// HoldTime is the hold time BIRD offers in its OPEN; 0 means 30 s.
	HoldTime int
	// Active makes BIRD open the sessions itself (to each peer's Port,
	// retrying every second) instead of waiting for the directors.
	Active bool
}

// The static device routes make the directors' next hops (10/8 and
// 2001:db8::/32) resolvable, so routes are "unicast" rather than
// "unreachable" and BIRD's best-path choice is the real one. BIRD is
// passive: the directors connect to it, as to a production router that
// does not know when a director comes up (unless Active is set).
var birdConf = template.Must(template.New("bird").Parse(`
router id {{.RouterID}};
log "{{.Dir}}/bird.log" all;
debug protocols { states, routes, events };
protocol device { }
protocol static { ipv4; route 10.0.0.0/8 via "lo"; }
protocol static { ipv6; route 2001:db8::/32 via "lo"; }
template bgp director {
	local {{.Address}} port {{.Port}} as {{.ASN}};
	multihop;
	{{if .Active}}passive off; connect delay time 1; connect retry time 1;{{else}}passive on;{{end}}
	hold time {{if .HoldTime}}{{.HoldTime}}{{else}}30{{end}};
	ipv4 { import all; export none; };
	ipv6 { import all; export none; next hop address 2001:db8::ffff; };
}
{{range .Peers}}protocol bgp {{.Name}} from director { neighbor {{.Address}}{{if .Port}} port {{.Port}}{{end}} as {{.ASN}}; }
{{end}}`))

// Bird is one running BIRD.
type Bird struct {
	Config  BirdConfig
	Dir     string
	Socket  string
	cmd     *exec.Cmd
	done    chan error
	stopped bool
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort(t testing.TB) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// StartBird writes the config and runs `bird -f` in a temporary directory;
// it is stopped when the test ends. A missing bird binary fails the test:
// `make test` installs it (mk/bgp.mk).
func StartBird(t testing.TB, c BirdConfig) *Bird {
	t.Helper()
	bin, err := sbin("bird")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sbin("birdc"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b := &Bird{Config: c, Dir: dir, Socket: filepath.Join(dir, "bird.ctl"), done: make(chan error, 1)}
	var conf bytes.Buffer
	if err := birdConf.Execute(&conf, struct {
		BirdConfig
		Dir string
	}{c, dir}); err != nil {
		t.Fatal(err)
	}
	cf := filepath.Join(dir, "bird.conf")
	if err := os.WriteFile(cf, conf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command(bin, "-f", "-c", cf, "-s", b.Socket, "-P", filepath.Join(dir, "bird.pid"))
	b.cmd.Stdout, b.cmd.Stderr = os.Stderr, os.Stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start bird: %v", err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "bird.log"))
			t.Logf("bird.log:\n%s", tail(string(log), 60))
		}
	})
	Eventually(t, 20*time.Second, "bird to answer on its socket", func() (bool, string) {
		out, err := b.Birdc("show status")
		return err == nil && strings.Contains(out, "Daemon is up"), out
	})
	return b
}

// sbin finds a BIRD binary on PATH or in /usr/sbin (not on every PATH).
func sbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := "/usr/sbin/" + name
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not installed (make test installs Debian's bird2 via mk/bgp.mk): %w", name, err)
	}
	return p, nil
}

// Stop ends BIRD (SIGTERM, then SIGKILL after 5 s); idempotent.
func (b *Bird) Stop() {
	if b.stopped {
		return
	}
	_ = b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
	b.stopped = true
}

// Birdc runs one birdc command against this BIRD.
func (b *Bird) Birdc(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	birdc, err := sbin("birdc")
	if err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, birdc, append([]string{"-s", b.Socket}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("birdc %v: %w: %s", args, err, out)
	}
	return string(out), nil
}

// Established reports whether BIRD's session to protocol name is up.
func (b *Bird) Established(name string) bool {
	out, err := b.Birdc("show", "protocols", name)
	return err == nil && strings.Contains(out, "Established")
}

// BirdRoute is one route in `show route all`, the fields the tests need.
type BirdRoute struct {
	Prefix      string
	Kind        string // unicast, unreachable, ...
	Proto       string // the BIRD protocol (peer) it came from
	Best        bool
	Origin      string // IGP, EGP, Incomplete
	ASPath      string // "64600 64601"
	NextHop     string
	MED         int64  // -1 when absent
	Communities string // "(64600,100) (65535,1)"
}

var routeHead = regexp.MustCompile(`^(\S+)?\s+(\w+) \[(\S+) [^\]]*\]( \*)?`)

// Routes is `show route all` (every table) parsed, prefix → routes in
// BIRD's order (the best first).
func (b *Bird) Routes() (map[string][]BirdRoute, error) {
	out, err := b.Birdc("show", "route", "all")
	if err != nil {
		return nil, err
	}
	return ParseRoutes(out), nil
}

// ParseRoutes parses the text of `birdc show route all`.
func ParseRoutes(out string) map[string][]BirdRoute {
	res := map[string][]BirdRoute{}
	var cur *BirdRoute
	var prefix string
	flush := func() {
		if cur != nil {
			res[cur.Prefix] = append(res[cur.Prefix], *cur)
			cur = nil
		}
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "BIRD ") || strings.HasPrefix(line, "Table ") || strings.TrimSpace(line) == "" {
			continue
		}
		if !strings.HasPrefix(line, "\t") {
			m := routeHead.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			flush()
			if m[1] != "" {
				prefix = m[1]
			}
			cur = &BirdRoute{Prefix: prefix, Kind: m[2], Proto: m[3], Best: m[4] != "", MED: -1}
			continue
		}
		if cur == nil {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		switch k {
		case "BGP.origin":
			cur.Origin = v
		case "BGP.as_path":
			cur.ASPath = v
		case "BGP.next_hop":
			cur.NextHop = v
		case "BGP.med":
			cur.MED, _ = strconv.ParseInt(v, 10, 64)
		case "BGP.community":
			cur.Communities = v
		}
	}
	flush()
	return res
}

// Best is the best route for prefix, if any.
func (b *Bird) Best(prefix string) (BirdRoute, bool) {
	rs, err := b.Routes()
	if err != nil {
		return BirdRoute{}, false
	}
	for _, r := range rs[prefix] {
		if r.Best {
			return r, true
		}
	}
	return BirdRoute{}, false
}

// Eventually polls cond every 20 ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got string
	for i := 0; i < 100000 && time.Now().Before(deadline); i++ {
		var ok bool
		if ok, got = cond(); ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s; last: %s", timeout, what, got)
}

// LogLine is one line of bird.log with its timestamp.
type LogLine struct {
	Time time.Time
	Text string
}

// Log is bird.log parsed (BIRD writes local time with milliseconds).
func (b *Bird) Log() ([]LogLine, error) {
	data, err := os.ReadFile(filepath.Join(b.Dir, "bird.log"))
	if err != nil {
		return nil, err
	}
	var out []LogLine
	for _, l := range strings.Split(string(data), "\n") {
		if len(l) < 24 {
			continue
		}
		ts, err := time.ParseInLocation("2006-01-02 15:04:05.000", l[:23], time.Local)
		if err != nil {
			continue
		}
		out = append(out, LogLine{Time: ts, Text: l[24:]})
	}
	return out, nil
}

// FindLog is the first bird.log line matching re, or false.
func (b *Bird) FindLog(re *regexp.Regexp) (LogLine, bool) {
	lines, _ := b.Log()
	for _, l := range lines {
		if re.MatchString(l.Text) {
			return l, true
		}
	}
	return LogLine{}, false
}

// WithdrawnBeforeClose reports whether BIRD removed prefix, learned from
// protocol proto, before the session to proto closed. It compares the
// order of lines in bird.log, not their times: BIRD logs the removal and
// the Cease in the same millisecond, and when the session closes without
// a withdraw it logs "removed" too, after the close (flushing the routes).
// The close is the first of "Received: <notification>", "BGP session
// closed" or "State changed to stop" after the route was added. The string
// describes what was found, for the failure message.
func (b *Bird) WithdrawnBeforeClose(proto, prefix string) (bool, string) {
	lines, err := b.Log()
	if err != nil {
		return false, err.Error()
	}
	q := regexp.QuoteMeta(proto)
	route := `\.ipv[46] > %s .*` + regexp.QuoteMeta(prefix) + ` `
	added := regexp.MustCompile(`^<TRACE> ` + q + fmt.Sprintf(route, "added"))
	removed := regexp.MustCompile(`^<TRACE> ` + q + fmt.Sprintf(route, "removed"))
	closed := regexp.MustCompile(`^(<RMT> ` + q + `: Received: |<TRACE> ` + q + `: (BGP session closed|State changed to stop))`)
	add, rm, cl := -1, -1, -1
	for i, l := range lines {
		switch {
		case add < 0 && added.MatchString(l.Text):
			add = i
		case add >= 0 && rm < 0 && removed.MatchString(l.Text):
			rm = i
		case add >= 0 && cl < 0 && closed.MatchString(l.Text):
			cl = i
		}
	}
	at := func(i int) string {
		if i < 0 {
			return "none"
		}
		return fmt.Sprintf("line %d %q", i, lines[i].Text)
	}
	desc := fmt.Sprintf("added: %s; removed: %s; closed: %s", at(add), at(rm), at(cl))
	return add >= 0 && rm >= 0 && cl >= 0 && rm < cl, desc
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
