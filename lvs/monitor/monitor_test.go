package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/lvs/config"
)

// recorder is a Reporter that keeps everything.
type recorder struct {
	mu      sync.Mutex
	results []bool
	msgs    []string
	logs    []string
}

func (r *recorder) Result(up bool, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, up)
	r.msgs = append(r.msgs, msg)
}

func (r *recorder) Log(level slog.Level, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, level.String()+" "+msg)
}

func (r *recorder) snapshot() ([]bool, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.results...), append([]string(nil), r.logs...)
}

func (r *recorder) last() (up, ok bool) {
	res, _ := r.snapshot()
	if len(res) == 0 {
		return false, false
	}
	return res[len(res)-1], true
}

// count returns how many results there are.
func (r *recorder) count() int { res, _ := r.snapshot(); return len(res) }

func (r *recorder) hasLog(sub string) bool {
	_, logs := r.snapshot()
	for _, l := range logs {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func (r *recorder) dump() string {
	res, logs := r.snapshot()
	return fmt.Sprintf("results %v\nlogs:\n%s", res, strings.Join(logs, "\n"))
}

// waitFor polls cond for up to 15 s.
func waitFor(t *testing.T, what string, r *recorder, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s\n%s", what, r.dump())
}

// waitResult waits for a new result after n existing ones and returns it.
func waitResult(t *testing.T, r *recorder, after int) bool {
	t.Helper()
	waitFor(t, fmt.Sprintf("result #%d", after+1), r, func() bool { return r.count() > after })
	res, _ := r.snapshot()
	return res[after]
}

func opts(kv ...string) map[string]config.Option {
	m := map[string]config.Option{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = config.Option{Value: kv[i+1], Pos: conf.Pos{File: "pybal.conf", Line: 10 + i/2}}
	}
	return m
}

var at = conf.Pos{File: "pybal.conf", Line: 3}

// start parses a monitor spec and runs it against target until the test
// ends.
func start(t *testing.T, name string, target Target, kv ...string) *recorder {
	t.Helper()
	spec, warn, err := Parse(name, opts(kv...), at)
	if err != nil {
		t.Fatal(err)
	}
	if len(warn) > 0 {
		t.Fatalf("warnings: %v", warn)
	}
	r := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { spec.New(nil).Run(ctx, target, r); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("monitor did not stop")
		}
	})
	return r
}

func target(addr string) Target {
	ap := netip.MustParseAddrPort(addr)
	return Target{Service: "text_443", Host: "mw1020", Addr: ap.Addr(), Port: ap.Port()}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		kv   []string
		want string
	}{
		{"ProxyFetch", nil, "pybal.conf:3: proxyfetch.url: required by the proxyfetch monitor"},
		{"ProxyFetch", []string{"url", `["ftp://x/"]`}, "pybal.conf:10: proxyfetch.url: bad URL"},
		{"ProxyFetch", []string{"url", `["http://x/"]`, "interval", "soon"}, "pybal.conf:11: proxyfetch.interval: not a number of seconds"},
		{"ProxyFetch", []string{"url", `["http://x/"]`, "http_status", "99"}, "pybal.conf:11: proxyfetch.http_status: must be an integer"},
		{"RunCommand", nil, "pybal.conf:3: runcommand.command: required"},
		{"RunCommand", []string{"command", "/bin/true", "arguments", "[os.system]"}, "pybal.conf:11: runcommand.arguments: unexpected"},
		{"DNSQuery", []string{"hostnames", "[]"}, "pybal.conf:10: dnsquery.hostnames: must not be empty"},
		{"IdleConnection", []string{"keepalive", "sometimes"}, "pybal.conf:10: idleconnection.keepalive: not a boolean"},
		{"Ping", nil, "pybal.conf:3: monitors: unknown monitor \"Ping\""},
	}
	for _, tc := range tests {
		_, _, err := Parse(tc.name, opts(tc.kv...), at)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s %v: got %v, want %q", tc.name, tc.kv, err, tc.want)
		}
	}
}

// Monitor option lists take a trailing Python comment like the rest of
// pybal.conf; a '#' inside a string (a URL fragment, an argument) stays.
func TestParseListComments(t *testing.T) {
	s, _, err := Parse("ProxyFetch", opts("url", `["http://en.wikipedia.org/#top"]  # main page`), at)
	if err != nil {
		t.Fatal(err)
	}
	if u := s.(*ProxyFetch).URLs; len(u) != 1 || u[0] != "http://en.wikipedia.org/#top" {
		t.Errorf("urls = %q", u)
	}
	rc, _, err := Parse("RunCommand", opts("command", "/bin/check", "arguments", `["#1", server.host]  # host last`), at)
	if err != nil {
		t.Fatal(err)
	}
	if argv := rc.(*RunCommand).argv(target("127.0.0.1:80")); len(argv) != 2 || argv[0] != "#1" || argv[1] != "mw1020" {
		t.Errorf("argv = %q", argv)
	}
}

func TestParseDefaults(t *testing.T) {
	s, warn, err := Parse("ProxyFetch", opts("url", `["http://en.wikipedia.org/"]`, "typo", "1"), at)
	if err != nil {
		t.Fatal(err)
	}
	pf := s.(*ProxyFetch)
	if pf.Interval != 10*time.Second || pf.Timeout != 5*time.Second || pf.HTTPStatus != 200 || pf.CheckAll || pf.MaxFailures != 0 {
		t.Errorf("ProxyFetch defaults: %+v", pf)
	}
	if len(warn) != 1 || !strings.Contains(warn[0], "proxyfetch.typo: unknown ProxyFetch option") {
		t.Errorf("warnings: %v", warn)
	}
	ic, _, _ := Parse("IdleConnection", nil, at)
	if c := ic.(*IdleConnection); c.TimeoutCleanReconnect != 3*time.Second || c.MaxDelay != 300*time.Second || !c.KeepAlive ||
		c.KeepAliveIdle != 10*time.Second || c.KeepAliveInterval != 30*time.Second || c.KeepAliveRetries != 3 {
		t.Errorf("IdleConnection defaults: %+v", c)
	}
	rc, _, _ := Parse("RunCommand", opts("command", "/bin/true"), at)
	if c := rc.(*RunCommand); c.Interval != 60*time.Second || c.Timeout != 20*time.Second || !c.LogOutput {
		t.Errorf("RunCommand defaults: %+v", c)
	}
	dq, _, _ := Parse("DNSQuery", opts("hostnames", `["en.wikipedia.org"]`), at)
	if c := dq.(*DNSQuery); c.Interval != 10*time.Second || c.Timeout != 5*time.Second || c.FailOnNXDomain {
		t.Errorf("DNSQuery defaults: %+v", c)
	}
	u, _, _ := Parse("UDP", nil, at)
	if c := u.(*UDP); c.Interval != 10*time.Second || c.ICMPTimeout != 20*time.Second {
		t.Errorf("UDP defaults: %+v", c)
	}
}

func TestDamper(t *testing.T) {
	tests := []struct {
		rise, fall int
		seedDown   bool   // started from a known down state
		in         string // u/d results
		want       string // damped state after each result
		changes    string // c where a change is reported
	}{
		{1, 1, false, "uddu", "uddu", "cc.c"},
		{1, 1, false, "duu", "duu", "cc."},
		{2, 3, false, "ddduduu", "uuddddu", "..c...c"},
		{1, 3, false, "ddud", "uuuu", "...."},
		{1, 1, true, "dud", "dud", ".cc"},
		{2, 1, true, "uuu", "duu", ".c."},
	}
	for _, tc := range tests {
		d := Damper{Rise: tc.rise, Fall: tc.fall}
		if tc.seedDown {
			d.SeedDown()
		}
		var got, ch strings.Builder
		for _, c := range tc.in {
			s, changed := d.Observe(c == 'u')
			got.WriteByte("du"[b2i(s)])
			ch.WriteByte(".c"[b2i(changed)])
		}
		if got.String() != tc.want || ch.String() != tc.changes {
			t.Errorf("rise %d fall %d %s: got %s %s, want %s %s", tc.rise, tc.fall, tc.in, got.String(), ch.String(), tc.want, tc.changes)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRunLogShape(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) }), &slog.HandlerOptions{Level: slog.LevelDebug}))
	var changes []string
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := &looper{name: "ProxyFetch", interval: time.Millisecond, timeout: time.Second, check: func(ctx context.Context, tg Target, r Reporter) (bool, string) {
		r.Log(slog.LevelDebug, "Fetch successful (http://en.wikipedia.org/), 0.012 s")
		return false, "boom"
	}}
	done := make(chan struct{})
	go func() {
		Run(ctx, RunConfig{Monitor: m, Target: target("127.0.0.1:80"), Rise: 1, Fall: 2, Log: log, Status: func() string { return "enabled/up/pooled" },
			OnChange: func(up bool, reason string) {
				mu.Lock()
				changes = append(changes, fmt.Sprintf("%v %s", up, reason))
				mu.Unlock()
				cancel()
			}})
		close(done)
	}()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), `msg="[text_443 ProxyFetch] mw1020 (enabled/up/pooled): Fetch successful (http://en.wikipedia.org/), 0.012 s"`) {
		t.Errorf("log shape:\n%s", buf.String())
	}
	if len(changes) != 1 || changes[0] != "false boom" {
		t.Errorf("changes %v (fall 2 needs two downs, one change)", changes)
	}
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }
