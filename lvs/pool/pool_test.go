package pool

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/internal/testtls"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

func TestParseLegacy(t *testing.T) {
	data := `# comment
{ 'host': 'mw1020.eqiad.wmnet', 'weight': 10, 'enabled': True }

{'host': "mw1021", 'weight': 0, 'enabled': False, 'extra': 'ignored'}
{ 'host': 'str-enabled', 'weight': 10, 'enabled': 'False' }
{ 'host': 'float-weight', 'weight': 10.0, 'enabled': True }
{ 'host': 'bool-weight', 'weight': True, 'enabled': True }
{ 'host': 'no-weight', 'enabled': True }
{ 'host': 'no-enabled', 'weight': 1 }
{ 'host': 'neg', 'weight': -1, 'enabled': True }
{ 'host': 'eval', 'weight': __import__('os'), 'enabled': True }
not a dict at all
    # indented comment
`
	p, bad := ParseLegacy("pool", []byte(data))
	want := Pool{"mw1020.eqiad.wmnet": {Enabled: true, Weight: 10}, "mw1021": {Enabled: false, Weight: 0}}
	if !p.Equal(want) {
		t.Errorf("pool = %v, want %v", p, want)
	}
	var lines []int
	for _, b := range bad {
		lines = append(lines, b.Pos.Line)
	}
	if got := strings.Trim(strings.Join(strings.Fields(strings.Trim(fmtInts(lines), "[]")), ","), ","); got != "5,6,7,8,9,10,11,12" {
		t.Errorf("bad lines = %v", lines)
	}
	if !strings.HasPrefix(bad[0].Error(), "pool:5: bad configuration line") || !strings.Contains(bad[0].Error(), "'enabled' must be a bool, not str") {
		t.Errorf("error text: %v", bad[0])
	}
}

// PyBal reads pool lines with ast.literal_eval, which takes a trailing
// comment; a '#' inside a quoted value is part of the value.
func TestParseLegacyTrailingComment(t *testing.T) {
	data := `{ 'host': 'mw1', 'weight': 10, 'enabled': True }  # rack B, T12345
{ 'host': 'mw#2', 'weight': 5, 'enabled': False }# no space
{ 'host': 'mw3', 'weight': 1, 'enabled': True } # 'enabled': False
{ 'host': 'mw4', 'weight': 1, # 'enabled': True }
`
	p, bad := ParseLegacy("pool", []byte(data))
	want := Pool{"mw1": {Enabled: true, Weight: 10}, "mw#2": {Enabled: false, Weight: 5}, "mw3": {Enabled: true, Weight: 1}}
	if !p.Equal(want) {
		t.Errorf("pool = %v, want %v", p, want)
	}
	if len(bad) != 1 || bad[0].Pos.Line != 4 {
		t.Errorf("bad = %v, want only line 4 (its closing brace is commented out)", bad)
	}
}

func TestParseJSON(t *testing.T) {
	p, err := ParseJSON("pool.json", []byte(`{"a": {"enabled": true, "weight": 10}, "b": {"enabled": false, "weight": 0}, "c": {}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Equal(Pool{"a": {true, 10}, "b": {false, 0}, "c": {true, 10}}) {
		t.Errorf("pool = %v", p)
	}
	for _, bad := range []string{`{`, `[]`, `null`, `{"a": {"weight": 1.5}}`, `{"a": {"weight": 10.0}}`, `{"a": {"weight": "10"}}`,
		`{"a": {"enabled": "false"}}`, `{"a": {"enabled": null}}`, `{"a": {"weight": -1}}`, `{"a": 1}`} {
		if _, err := ParseJSON("pool.json", []byte(bad)); err == nil {
			t.Errorf("ParseJSON(%s) accepted", bad)
		}
	}
}

func TestNewSource(t *testing.T) {
	// etcd sources are watched, not polled: the daemon never asks for one.
	_, err := NewSource("etcd://conf1001/conftool/v1/pools/eqiad/appserver/apache2/", time.Second)
	if err == nil || !strings.Contains(err.Error(), "watched") {
		t.Errorf("etcd: %v", err)
	}
	if IsJSON("file:///x/pool") || !IsJSON("http://h/pool.json?x=1") || !IsJSON("file:///p.json") {
		t.Error("IsJSON")
	}
}

type collector struct {
	mu    sync.Mutex
	pools []Pool
}

func (c *collector) add(p Pool) { c.mu.Lock(); c.pools = append(c.pools, p); c.mu.Unlock() }
func (c *collector) get() []Pool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Pool(nil), c.pools...)
}

func TestWatchFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pool")
	write := func(s string) { testutil.WriteAtomic(t, path, s) }
	write("{'host': 'a', 'weight': 1, 'enabled': True}\n")
	src, _ := NewSource("file://"+path, time.Second)
	var c collector
	var logBuf testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watch(ctx, src, false, 20*time.Millisecond, slog.New(slog.NewTextHandler(&logBuf, nil)), c.add)
		close(done)
	}()
	testutil.WaitFor(t, "first pool", func() bool { return len(c.get()) == 1 })
	// Same content rewritten: no notification.
	write("{'host': 'a', 'weight': 1, 'enabled': True}\n\n")
	time.Sleep(100 * time.Millisecond)
	if n := len(c.get()); n != 1 {
		t.Errorf("unchanged content notified: %d", n)
	}
	write("{'host': 'a', 'weight': 1, 'enabled': True}\n#{'host': 'b', 'weight': 1, 'enabled': True}\n{'host': 'c', 'weight': 0, 'enabled': False}\n")
	testutil.WaitFor(t, "second pool", func() bool { return len(c.get()) == 2 })
	if got := c.get()[1]; !got.Equal(Pool{"a": {true, 1}, "c": {false, 0}}) {
		t.Errorf("second pool %v", got)
	}
	os.Remove(path)
	testutil.WaitFor(t, "error logged", func() bool { return strings.Contains(logBuf.String(), "keeping the last good pool (2 servers)") })
	write("{'host': 'a', 'weight': 1, 'enabled': True}\n")
	testutil.WaitFor(t, "third pool", func() bool { return len(c.get()) == 3 })
	cancel()
	<-done
}

func TestWatchHTTP(t *testing.T) {
	var mu sync.Mutex
	body, status := `{"a": {"enabled": true, "weight": 10}}`, 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	set := func(b string, s int) { mu.Lock(); body, status = b, s; mu.Unlock() }
	src, _ := NewSource(srv.URL+"/pools/text.json", time.Second)
	var c collector
	var logBuf testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Watch(ctx, src, true, 20*time.Millisecond, slog.New(slog.NewTextHandler(&logBuf, nil)), c.add)
	testutil.WaitFor(t, "first pool", func() bool { return len(c.get()) == 1 })
	set(`{"a": {"enabled": tru`, 200)
	testutil.WaitFor(t, "bad JSON logged", func() bool { return strings.Contains(logBuf.String(), "bad JSON pool") })
	set(`{}`, 500)
	testutil.WaitFor(t, "recovery", func() bool { set(`{"a": {"enabled": false, "weight": 10}}`, 200); return len(c.get()) == 2 })
	if got := c.get()[1]; !got.Equal(Pool{"a": {false, 10}}) {
		t.Errorf("pool after recovery: %v", got)
	}
}

// An HTTP source reports every fetch as changed; an identical body must not
// be parsed again, so a refused document's bad lines are logged once, not
// on every poll.
func TestWatchHTTPIdenticalBody(t *testing.T) {
	var (
		mu       sync.Mutex
		requests int
		status   = 200
		body     = "{ 'host': 'a', 'weight': 1, 'enabled': True }\n"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		requests++
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	served := func() int { mu.Lock(); defer mu.Unlock(); return requests }
	set := func(b string, s int) { mu.Lock(); body, status = b, s; mu.Unlock() }
	src, _ := NewSource(srv.URL+"/pool", time.Second)
	var c collector
	var logBuf testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watch(ctx, src, false, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logBuf, nil)), c.add)
		close(done)
	}()
	defer func() { cancel(); <-done }()
	// Polls are sequential: once request n+1 has arrived, poll n is done.
	afterPolls := func(n int) {
		t.Helper()
		start := served()
		testutil.WaitFor(t, fmt.Sprintf("%d more polls", n), func() bool { return served() > start+n })
	}
	count := func(s string) int { return strings.Count(logBuf.String(), s) }
	testutil.WaitFor(t, "first pool", func() bool { return len(c.get()) == 1 })
	set("{ 'host': 'a', 'weight': 2, 'enabled': True }\nnot a dict\n", 200)
	afterPolls(5)
	if n := count("Bad configuration line"); n != 1 {
		t.Errorf("bad line logged %d times over 6 identical bodies, want 1:\n%s", n, logBuf.String())
	}
	if n := count("refused"); n != 1 {
		t.Errorf("refusal logged %d times, want 1:\n%s", n, logBuf.String())
	}
	// A different body is parsed (and its bad line logged) again.
	set("{ 'host': 'a', 'weight': 3, 'enabled': True }\nnot a dict\n", 200)
	afterPolls(5)
	if n := count("Bad configuration line"); n != 2 {
		t.Errorf("bad line logged %d times after a change, want 2", n)
	}
	// A failure streak ended by the same body is reported as recovered,
	// and the body stays refused without being parsed again.
	set("", 500)
	testutil.WaitFor(t, "failure logged", func() bool { return count("keeping the last good pool") == 3 })
	set("{ 'host': 'a', 'weight': 3, 'enabled': True }\nnot a dict\n", 200)
	testutil.WaitFor(t, "recovery logged", func() bool { return count("is readable again") == 1 })
	afterPolls(3)
	if n := count("Bad configuration line"); n != 2 {
		t.Errorf("bad line logged %d times after recovery with the same body, want 2", n)
	}
	if got := c.get(); len(got) != 1 || !got[0].Equal(Pool{"a": {true, 1}}) {
		t.Errorf("pools = %v", got)
	}
}

// refusals collects WatchWith's refusal reports.
type refusals chan string

func (r refusals) add(msg string) { r <- msg }

// next waits for the next report.
func (r refusals) next(t *testing.T) string {
	t.Helper()
	select {
	case msg := <-r:
		return msg
	case <-time.After(10 * time.Second):
		t.Fatal("no refusal report")
		return ""
	}
}

// A document that is empty, has any bad line, or is not valid JSON is
// refused whole, from a real HTTP server: the last good pool stays (no
// notification), the refusal names the source and the first bad line;
// the good document again ends the refusal.
func TestWatchRefusesBadDocuments(t *testing.T) {
	good := "{ 'host': 'a', 'weight': 10, 'enabled': True }\n{ 'host': 'b', 'weight': 10, 'enabled': True }\n"
	goodJSON := `{"a": {"enabled": true, "weight": 10}, "b": {"enabled": true, "weight": 10}}`
	tests := []struct {
		name, path, doc, want string
	}{
		{"an error page", "/pool", "<html>502</html>\n",
			`1 bad line(s), the first at SRC:1: bad configuration line "<html>502</html>"`},
		{"empty", "/pool", "", "no server in it (an empty document, or only blank and comment lines)"},
		{"only comments", "/pool", "# all gone\n\n", "no server in it"},
		{"one bad line among good ones", "/pool", good + "{ 'host': 'c', 'weight': '10', 'enabled': True }\n",
			`1 bad line(s), the first at SRC:3: bad configuration line "{ 'host': 'c', 'weight': '10', 'enabled': True }": 'weight' must be an int, not str`},
		{"cut short", "/pool", good[:60], "1 bad line(s), the first at SRC:2"},
		{"JSON error page", "/pool.json", "<html>502</html>", "SRC:1: bad JSON pool"},
		{"empty JSON", "/pool.json", "{}", "no server in it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			body := good
			if IsJSON(tc.path) {
				body = goodJSON
			}
			first := body
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				io.WriteString(w, body)
			}))
			defer srv.Close()
			set := func(b string) { mu.Lock(); body = b; mu.Unlock() }
			src, _ := NewSource(srv.URL+tc.path, time.Second)
			var c collector
			ref := make(refusals, 10)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				WatchWith(ctx, src, WatchOptions{JSON: IsJSON(tc.path), Interval: 10 * time.Millisecond, Log: slog.New(slog.DiscardHandler),
					OnChange: c.add, OnRefused: ref.add})
				close(done)
			}()
			defer func() { cancel(); <-done }()
			testutil.WaitFor(t, "first pool", func() bool { return len(c.get()) == 1 })
			set(tc.doc)
			msg := ref.next(t)
			wantPrefix := "pool source " + srv.URL + tc.path + " refused, keeping the last good pool (2 servers): "
			want := strings.ReplaceAll(tc.want, "SRC", srv.URL+tc.path)
			if !strings.HasPrefix(msg, wantPrefix) || !strings.Contains(msg, want) {
				t.Errorf("refusal %q, want %q then %q", msg, wantPrefix, want)
			}
			set(first)
			if msg := ref.next(t); msg != "" {
				t.Errorf("after the good document: %q", msg)
			}
			if n := len(c.get()); n != 1 {
				t.Errorf("%d pools notified, want 1: %v", n, c.get())
			}
		})
	}
}

// A source whose first document is refused gives no pool at all.
func TestWatchRefusesFirstDocument(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pool")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	src, _ := NewSource("file://"+path, time.Second)
	ref := make(refusals, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go WatchWith(ctx, src, WatchOptions{Interval: 10 * time.Millisecond, Log: slog.New(slog.DiscardHandler),
		OnChange: func(p Pool) { t.Errorf("pool %v notified", p) }, OnRefused: ref.add})
	if msg, want := ref.next(t), "pool source file://"+path+" refused, no pool from it yet: no server in it"; !strings.HasPrefix(msg, want) {
		t.Errorf("refusal %q, want %q", msg, want)
	}
}

// A rejected JSON document stays rejected while it is served unchanged:
// no "readable again" and no repeated failure logs.
func TestWatchHTTPSameBadJSON(t *testing.T) {
	var (
		mu       sync.Mutex
		requests int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		io.WriteString(w, `{"a": {"enabled": tru`)
	}))
	defer srv.Close()
	src, _ := NewSource(srv.URL+"/pool.json", time.Second)
	var logBuf testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watch(ctx, src, true, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logBuf, nil)), func(Pool) { t.Error("bad JSON notified") })
		close(done)
	}()
	testutil.WaitFor(t, "5 polls", func() bool { mu.Lock(); defer mu.Unlock(); return requests > 5 })
	cancel()
	<-done
	if n := strings.Count(logBuf.String(), "bad JSON pool"); n != 1 || strings.Contains(logBuf.String(), "readable again") {
		t.Errorf("log:\n%s", logBuf.String())
	}
}

// An https:// pool source is fetched over TLS, verified against the CAs
// given (here the test server's own certificate).
func TestWatchHTTPS(t *testing.T) {
	var (
		mu   sync.Mutex
		tls  bool
		body = `{"a": {"enabled": true, "weight": 10}}`
	)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		tls = r.TLS != nil
		io.WriteString(w, body)
	}))
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("server URL %s", srv.URL)
	}
	src, err := NewSourceTLS(srv.URL+"/pools/text.json", time.Second, TLS{RootCAs: certPool(srv)})
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	var logBuf testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watch(ctx, src, true, 20*time.Millisecond, slog.New(slog.NewTextHandler(&logBuf, nil)), c.add)
		close(done)
	}()
	defer func() { cancel(); <-done }()
	testutil.WaitFor(t, "first pool", func() bool { return len(c.get()) == 1 })
	mu.Lock()
	body = `{"a": {"enabled": false, "weight": 10}, "b": {"enabled": true, "weight": 3}}`
	mu.Unlock()
	testutil.WaitFor(t, "second pool", func() bool { return len(c.get()) == 2 })
	if got := c.get(); !got[0].Equal(Pool{"a": {true, 10}}) || !got[1].Equal(Pool{"a": {false, 10}, "b": {true, 3}}) {
		t.Errorf("pools = %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !tls {
		t.Error("fetched without TLS")
	}
	if strings.Contains(logBuf.String(), "failed") {
		t.Errorf("log:\n%s", logBuf.String())
	}
}

// certPool trusts srv's certificate.
func certPool(srv *httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(srv.Certificate())
	return p
}

// An https:// pool source's certificate is verified: against the system
// roots by default (which do not know the test server's self-signed
// certificate), against the CAs given, or not at all when asked.
func TestHTTPSVerification(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "{ 'host': 'a', 'weight': 10, 'enabled': True }\n")
	}))
	defer srv.Close()
	other := x509.NewCertPool()
	other.AppendCertsFromPEM(testtls.NewCA(t, "other.test").PEM)
	tests := []struct {
		name string
		tls  TLS
		err  string // "" when the fetch succeeds
	}{
		{"system roots", TLS{}, "certificate signed by unknown authority"},
		{"the server's CA", TLS{RootCAs: certPool(srv)}, ""},
		{"another CA", TLS{RootCAs: other}, "certificate signed by unknown authority"},
		{"verification off", TLS{Insecure: true}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := NewSourceTLS(srv.URL+"/pool", 5*time.Second, tc.tls)
			if err != nil {
				t.Fatal(err)
			}
			data, _, err := src.Fetch(context.Background())
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("fetch: %v", err)
			case tc.err == "" && !strings.Contains(string(data), "'host': 'a'"):
				t.Errorf("fetched %q", data)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("fetch error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	v4, v6 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")
	lookup := func(_ context.Context, network, host string) ([]netip.Addr, error) {
		if host == "gone" {
			return nil, errors.New("no such host")
		}
		if network == "ip4" {
			return []netip.Addr{netip.MustParseAddr("10.1.0.9"), netip.MustParseAddr("10.1.0.3")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("2001:db8::9")}, nil
	}
	ctx := context.Background()
	tests := []struct {
		host    string
		vip     netip.Addr
		current string
		want    string
	}{
		{"mw1", v4, "", "10.1.0.3"},
		{"mw1", v4, "10.1.0.9", "10.1.0.9"},
		{"mw1", v4, "10.1.0.7", "10.1.0.3"},
		{"mw1", v6, "", "2001:db8::9"},
		{"127.0.0.5", v4, "", "127.0.0.5"},
		{"gone", v4, "", ""},
		{"::1", v4, "", ""},
	}
	for _, tc := range tests {
		var cur netip.Addr
		if tc.current != "" {
			cur = netip.MustParseAddr(tc.current)
		}
		got, err := Resolve(ctx, lookup, tc.host, tc.vip, cur)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: got %v, want error", tc.host, got)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("%s (current %s): %v %v, want %s", tc.host, tc.current, got, err, tc.want)
		}
	}
	// The real resolver resolves localhost via /etc/hosts.
	if a, err := Resolve(ctx, nil, "localhost", v4, netip.Addr{}); err != nil || !a.IsLoopback() {
		t.Errorf("localhost: %v %v", a, err)
	}
}

func BenchmarkParseLegacy1000(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, "{ 'host': 'mw%04d.eqiad.wmnet', 'weight': 10, 'enabled': True }\n", i)
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if p, bad := ParseLegacy("pool", data); len(p) != 1000 || len(bad) != 0 {
			b.Fatal("parse")
		}
	}
}

// Every malformed host of a JSON pool is reported, with the line of the
// field (or host) it is about, in document order.
func TestParseJSONReportsEveryHost(t *testing.T) {
	doc := "{\n  \"a\": {\"weight\": 1.5},\n  \"b\": {\"enabled\": true},\n  \"c\": [],\n  \"d\": {\n    \"enabled\": \"no\"\n  }\n}\n"
	_, err := ParseJSON("pool.json", []byte(doc))
	var es conf.Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %#v, want conf.Errors", err)
	}
	want := []string{
		`pool.json:2: bad JSON pool: host a: "weight" must be an integer 0-65535, not 1.5`,
		`pool.json:4: bad JSON pool: host c: not an object`,
		`pool.json:6: bad JSON pool: host d: "enabled" must be true or false, not "no"`,
	}
	if es.Error() != strings.Join(want, "\n") {
		t.Errorf("errors:\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
	if got := Refusal(nil, nil, err); got != want[0]+" (and 2 more)" {
		t.Errorf("refusal %q", got)
	}
	_, err = ParseJSON("pool.json", []byte("{\n\"a\": {}\n\"b\": {}}"))
	if err == nil || !strings.HasPrefix(err.Error(), "pool.json:3: bad JSON pool: invalid character") {
		t.Errorf("syntax error: %v", err)
	}
}
