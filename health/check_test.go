package health

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// httpServer serves /ok (200), /created (201), /missing (404),
// /redirect (302) and /slow (no answer until the test ends) on
// 127.0.0.1, and records the last request's Host and User-Agent.
func httpServer(t *testing.T) (netip.AddrPort, func() (host, ua string)) {
	t.Helper()
	var mu sync.Mutex
	var host, ua string
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		host, ua = r.Host, r.UserAgent()
		mu.Unlock()
		switch r.URL.Path {
		case "/created":
			w.WriteHeader(201)
		case "/missing":
			http.NotFound(w, r)
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/slow":
			<-stop
		default:
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	return netip.MustParseAddrPort(strings.TrimPrefix(srv.URL, "http://")), func() (string, string) {
		mu.Lock()
		defer mu.Unlock()
		return host, ua
	}
}

func TestHTTPStatus(t *testing.T) {
	ap, seen := httpServer(t)
	tests := []struct {
		name, path, vhost string
		okCodes           []int
		wantErr           string
	}{
		{"200", "/ok", "", []int{200}, ""},
		{"path without a slash", "ok", "", []int{200}, ""},
		{"201 is not in [200]", "/created", "", []int{200}, "HTTP status 201"},
		{"201 in ok_codes", "/created", "", []int{200, 201}, ""},
		{"404", "/missing", "", []int{200}, "HTTP status 404"},
		{"a redirect is not followed", "/redirect", "", []int{200}, "HTTP status 302"},
		{"a redirect in ok_codes", "/redirect", "www.example.org", []int{302}, ""},
		{"timeout", "/slow", "", []int{200}, "timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ := withDefaults(&ServiceType{Plugin: "http_status", Port: ap.Port(), URLPath: tc.path, VHost: tc.vhost, OKCodes: tc.okCodes})
			// Only the case that must time out gets a short timeout: a
			// busy machine may take longer than that to fork a shell.
			timeout := time.Minute
			if tc.wantErr == "timed out, killed" {
				timeout = 300 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			err := probeOnce(ctx, typ, ap.Addr())
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("check = %v, want %q", err, tc.wantErr)
			}
			host, ua := seen()
			wantHost := tc.vhost
			if wantHost == "" {
				wantHost = ap.String()
			}
			if host != wantHost || ua != "gdnsd-monitor" {
				t.Errorf("request Host %q User-Agent %q, want %q and gdnsd-monitor", host, ua, wantHost)
			}
		})
	}
}

func TestTCPConnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(l.Addr().String())
	typ := withDefaults(&ServiceType{Plugin: "tcp_connect", Port: ap.Port()})
	if err := probeOnce(context.Background(), typ, ap.Addr()); err != nil {
		t.Errorf("open port: %v", err)
	}
	l.Close()
	if err := probeOnce(context.Background(), typ, ap.Addr()); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("closed port: %v, want connection refused", err)
	}
}

func TestExtmon(t *testing.T) {
	a := netip.MustParseAddr("127.0.0.9")
	tests := []struct {
		name    string
		cmd     []string
		wantErr string
	}{
		{"exit 0", []string{"/bin/sh", "-c", "exit 0"}, ""},
		{"exit 1", []string{"/bin/sh", "-c", "exit 1"}, "exit status 1"},
		{"%%ITEM%% is the address", []string{"/bin/sh", "-c", "test x%%ITEM%% = x127.0.0.9"}, ""},
		{"timeout kills", []string{"/bin/sh", "-c", "sleep 30"}, "timed out, killed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Only the case that must time out gets a short timeout: a
			// busy machine may take longer than that to fork a shell.
			timeout := time.Minute
			if tc.wantErr == "timed out, killed" {
				timeout = 300 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			err := probeOnce(ctx, withDefaults(&ServiceType{Plugin: "extmon", Cmd: tc.cmd}), a)
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("check = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// The real checks through Set: the initial round's states and errors.
func TestSetWithRealChecks(t *testing.T) {
	ap, _ := httpServer(t)
	m := New(Options{})
	types := map[string]*ServiceType{
		"ok":     {Name: "ok", Plugin: "http_status", Port: ap.Port(), URLPath: "/ok", Interval: 2 * time.Second, Timeout: time.Second},
		"broken": {Name: "broken", Plugin: "http_status", Port: ap.Port(), URLPath: "/missing", Interval: 2 * time.Second, Timeout: time.Second},
		"extmon": {Name: "extmon", Plugin: "extmon", Cmd: []string{"/bin/sh", "-c", "exit 1"}, Direct: true, Interval: 2 * time.Second, Timeout: time.Second},
	}
	a := ap.Addr()
	m.Set(context.Background(), types, []Key{{a, "ok"}, {a, "broken"}, {a, "extmon"}})
	s := m.Snapshot()
	for k, want := range map[Key]State{{a, "ok"}: {TTL: 20}, {a, "broken"}: {Down: true, TTL: 40, LastError: "HTTP status 404"},
		{a, "extmon"}: {Down: true, TTL: MaxTTL, LastError: "exit status 1"}} {
		got := state(t, s, k)
		if got.Down != want.Down || got.TTL != want.TTL || got.LastError != want.LastError {
			t.Errorf("%s = %+v, want %+v", k, got, want)
		}
	}
}
