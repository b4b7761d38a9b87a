package monitor

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// listenAgain re-listens on addr after a backend was killed (the port may
// take a moment to be free).
func listenAgain(t *testing.T, network, addr string) net.Listener {
	t.Helper()
	for i := 0; i < 100; i++ {
		l, err := net.Listen(network, addr)
		if err == nil {
			return l
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("cannot listen on %s again", addr)
	return nil
}

func TestProxyFetch(t *testing.T) {
	var seen struct {
		sync.Mutex
		host, path string
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Lock()
		seen.host, seen.path = r.Host, r.URL.RequestURI()
		seen.Unlock()
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/elsewhere":
			io.WriteString(w, "followed") // reached only if redirects were followed
		case "/created":
			w.WriteHeader(201)
		case "/missing":
			http.NotFound(w, r)
		case "/slow":
			time.Sleep(2 * time.Second)
		default:
			io.WriteString(w, "ok")
		}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(h)
	defer tlsSrv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	tlsAddr := strings.TrimPrefix(tlsSrv.URL, "https://")

	tests := []struct {
		name, addr string
		kv         []string
		wantUp     bool
		wantLog    string
	}{
		{"200", addr, []string{"url", `["http://en.wikipedia.org/wiki/Main_Page?x=1"]`}, true, "Fetch successful (http://en.wikipedia.org/wiki/Main_Page?x=1), 0.0"},
		{"201 with default 200", addr, []string{"url", `["http://a/created"]`}, true, "Fetch successful"},
		{"404", addr, []string{"url", `["http://a/missing"]`}, false, "Fetch failed (http://a/missing), 0.0"},
		{"302 not followed fails with 200", addr, []string{"url", `["http://a/redirect"]`}, false, "HTTP status 302"},
		{"302 passes with http_status 302", addr, []string{"url", `["http://a/redirect"]`, "http_status", "302"}, true, "Fetch successful"},
		{"200 fails with http_status 301", addr, []string{"url", `["http://a/"]`, "http_status", "301"}, false, "HTTP status 200"},
		{"timeout", addr, []string{"url", `["http://a/slow"]`, "timeout", "0.2"}, false, "timed out"},
		{"https unverified", tlsAddr, []string{"url", `["https://en.wikipedia.org/"]`}, true, "Fetch successful (https://en.wikipedia.org/)"},
		{"check_all within max_failures", addr, []string{"url", `["http://a/", "http://a/missing"]`, "check_all", "yes", "max_failures", "1"}, true, "Fetch failed"},
		{"check_all over max_failures", addr, []string{"url", `["http://a/", "http://a/missing"]`, "check_all", "yes"}, false, "Fetch failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, "ProxyFetch", target(tc.addr), append([]string{"interval", "0.01"}, tc.kv...)...)
			if got := waitResult(t, r, 0); got != tc.wantUp {
				t.Errorf("up = %v, want %v\n%s", got, tc.wantUp, r.dump())
			}
			if !r.hasLog(tc.wantLog) {
				t.Errorf("no log containing %q\n%s", tc.wantLog, r.dump())
			}
		})
	}
	// The Host header and path come from the URL; the connection goes to
	// the server's address.
	r := start(t, "ProxyFetch", target(addr), "interval", "0.01", "url", `["http://en.wikipedia.org/wiki/Special:BlankPage"]`)
	waitResult(t, r, 0)
	seen.Lock()
	defer seen.Unlock()
	if seen.host != "en.wikipedia.org" || seen.path != "/wiki/Special:BlankPage" {
		t.Errorf("request Host %q path %q", seen.host, seen.path)
	}
}

func TestProxyFetchBackendKilledAndRestarted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	serve := func(l net.Listener) *http.Server {
		s := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
		go s.Serve(l)
		return s
	}
	s := serve(l)
	r := start(t, "ProxyFetch", target(addr), "interval", "0.02", "timeout", "1", "url", `["http://en.wikipedia.org/"]`)
	waitFor(t, "up", r, func() bool { up, ok := r.last(); return ok && up })
	s.Close()
	waitFor(t, "down after kill", r, func() bool { up, ok := r.last(); return ok && !up })
	if !r.hasLog("connection refused") {
		t.Errorf("no connection refused log\n%s", r.dump())
	}
	s = serve(listenAgain(t, "tcp", addr))
	defer s.Close()
	waitFor(t, "up after restart", r, func() bool { up, ok := r.last(); return ok && up })
}

func TestIdleConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	conns := make(chan *net.TCPConn, 16)
	accept := func(l net.Listener) {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c.(*net.TCPConn)
		}
	}
	go accept(l)
	r := start(t, "IdleConnection", target(addr), "max-delay", "0.2", "timeout-clean-reconnect", "0.05")
	if !waitResult(t, r, 0) {
		t.Fatalf("not up\n%s", r.dump())
	}
	// A clean close by the server reconnects and stays up.
	(<-conns).Close()
	waitFor(t, "clean-close log", r, func() bool { return r.hasLog("closed cleanly") })
	c2 := <-conns // the reconnection
	waitFor(t, "reconnected", r, func() bool {
		_, logs := r.snapshot()
		return strings.Count(strings.Join(logs, "\n"), "Connection established") >= 2
	})
	if up, _ := r.last(); !up {
		t.Fatalf("down after clean close\n%s", r.dump())
	}
	// Killing the backend: reset connection (unclean) and refused reconnects.
	l.Close()
	c2.SetLinger(0)
	c2.Close()
	waitFor(t, "down", r, func() bool { up, ok := r.last(); return ok && !up })
	if !r.hasLog("Connection to " + addr + " lost.") {
		t.Errorf("no lost log\n%s", r.dump())
	}
	waitFor(t, "failed reconnect", r, func() bool { return r.hasLog("Connection to " + addr + " failed.") })
	// Restarted backend: the bounded back-off reconnects.
	l2 := listenAgain(t, "tcp", addr)
	defer l2.Close()
	go accept(l2)
	waitFor(t, "up after restart", r, func() bool { up, ok := r.last(); return ok && up })
}

// A clean close is followed by one reconnect; when that is refused the
// server goes down (and not before: no down result for the close itself).
func TestIdleConnectionCleanCloseThenRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	conns := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			conns <- c
		}
	}()
	r := start(t, "IdleConnection", target(addr), "max-delay", "0.2", "timeout-clean-reconnect", "0.05")
	if !waitResult(t, r, 0) {
		t.Fatalf("not up\n%s", r.dump())
	}
	c := <-conns
	l.Close() // the reconnect will be refused
	c.Close() // clean close (FIN)
	if waitResult(t, r, 1) {
		t.Fatalf("up after a refused reconnect\n%s", r.dump())
	}
	res, logs := r.snapshot()
	all := strings.Join(logs, "\n")
	r.mu.Lock()
	msg := r.msgs[1]
	r.mu.Unlock()
	if res[0] != true || msg != "Connection to "+addr+" failed." {
		t.Errorf("results %v, second message %q", res, msg)
	}
	if !strings.Contains(all, "closed cleanly, reconnecting") || strings.Contains(all, " lost.") {
		t.Errorf("want a clean close then a failed reconnect, not a lost connection:\n%s", all)
	}
}

func TestRunCommand(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pidFile := filepath.Join(dir, "grandchild.pid")
	tests := []struct {
		name    string
		kv      []string
		wantUp  bool
		wantLog string
	}{
		{"exit 0 with host substituted", []string{"command", script("ok", `echo "host=$1 ip=$2 quoted=$3"`), "arguments", `[server.host, server.ip, "server.host"]`},
			true, "Cmd stdout: host=mw1020 ip=127.0.0.1 quoted=mw1020"},
		{"exit 3", []string{"command", script("fail", "echo broken >&2; exit 3")}, false, "failed with exit status 3"},
		{"stderr logged", []string{"command", script("fail2", "echo broken >&2; exit 3")}, false, "Cmd stderr: broken"},
		{"empty environment", []string{"command", script("env", `echo "vars=$(env | grep -v '^PWD=' | grep -v '^SHLVL=' | grep -v '^_=' | wc -l)"`)}, true, "Cmd stdout: vars=0"},
		{"own session", []string{"command", script("sid", `[ "$(cut -d' ' -f6 /proc/$$/stat)" = "$$" ] && echo leader`)}, true, "Cmd stdout: leader"},
		{"missing program", []string{"command", filepath.Join(dir, "nope")}, false, "no such file"},
		{"timeout kills the group", []string{"command", script("hang", "sleep 30 & echo $! > "+pidFile+"; wait"), "timeout", "0.3"}, false, "timed out after "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, "RunCommand", target("127.0.0.1:80"), append([]string{"interval", "0.01"}, tc.kv...)...)
			if got := waitResult(t, r, 0); got != tc.wantUp {
				t.Errorf("up = %v, want %v\n%s", got, tc.wantUp, r.dump())
			}
			if !r.hasLog(tc.wantLog) {
				t.Errorf("no log containing %q\n%s", tc.wantLog, r.dump())
			}
		})
	}
	// The grandchild (sleep) died with its process group.
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(st), ") Z ") {
			break // gone (or a zombie awaiting its reaper)
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("grandchild %d survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDNSQuery(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		switch q.Question[0].Name {
		case "ok.example.":
			if q.Question[0].Qtype == dns.TypeA {
				rr, _ := dns.NewRR("ok.example. 60 IN A 192.0.2.1")
				m.Answer = append(m.Answer, rr)
			}
		case "missing.example.":
			m.Rcode = dns.RcodeNameError
		case "refused.example.":
			m.Rcode = dns.RcodeRefused
		default:
			m.Rcode = dns.RcodeServerFailure
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	defer srv.Shutdown()
	addr := pc.LocalAddr().String()
	tests := []struct {
		name    string
		kv      []string
		wantUp  bool
		wantLog string
	}{
		{"noerror", []string{"hostnames", `["ok.example"]`}, true, "DNS query successful"},
		{"nxdomain is up", []string{"hostnames", `["missing.example"]`}, true, "NXDOMAIN"},
		{"nxdomain with fail-on-nxdomain", []string{"hostnames", `["missing.example"]`, "fail-on-nxdomain", "yes"}, false, "DNS query failed"},
		{"servfail", []string{"hostnames", `["broken.example"]`}, false, "SERVFAIL"},
		{"refused", []string{"hostnames", `["refused.example"]`}, false, "REFUSED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, "DNSQuery", target(addr), append([]string{"interval", "0.01"}, tc.kv...)...)
			if got := waitResult(t, r, 0); got != tc.wantUp {
				t.Errorf("up = %v, want %v\n%s", got, tc.wantUp, r.dump())
			}
			if !r.hasLog(tc.wantLog) {
				t.Errorf("no log containing %q\n%s", tc.wantLog, r.dump())
			}
		})
	}
	// A dead server times out.
	dead, _ := net.ListenPacket("udp", "127.0.0.1:0") // bound, never answers
	defer dead.Close()
	r := start(t, "DNSQuery", target(dead.LocalAddr().String()), "interval", "0.01", "timeout", "0.2", "hostnames", `["ok.example"]`)
	if waitResult(t, r, 0) {
		t.Errorf("silent server reported up\n%s", r.dump())
	}
}

func TestUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	r := start(t, "UDP", target(addr), "interval", "0.01", "icmp-timeout", "0.2")
	if !waitResult(t, r, 0) {
		t.Fatalf("listening port reported down\n%s", r.dump())
	}
	pc.Close() // killed: the kernel now answers with ICMP port unreachable
	waitFor(t, "down", r, func() bool { up, ok := r.last(); return ok && !up })
	if !r.hasLog(addr + ": ICMP destination unreachable received") {
		t.Errorf("log\n%s", r.dump())
	}
	var pc2 net.PacketConn
	for i := 0; i < 100 && pc2 == nil; i++ {
		pc2, _ = net.ListenPacket("udp", addr)
		time.Sleep(10 * time.Millisecond)
	}
	if pc2 == nil {
		t.Fatal("cannot listen again")
	}
	defer pc2.Close()
	waitFor(t, "up after restart", r, func() bool { up, ok := r.last(); return ok && up })
}
