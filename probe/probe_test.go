package probe

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

func TestHTTPGet(t *testing.T) {
	stop := make(chan struct{})
	var gotHost, gotUA, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost, gotUA, gotPath = r.Host, r.UserAgent(), r.URL.RequestURI()
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/", http.StatusFound)
		case "/slow":
			<-stop
		default:
			io.WriteString(w, strings.Repeat("x", 1<<16))
		}
	}))
	defer srv.Close()
	defer close(stop)
	addr := netip.MustParseAddrPort(strings.TrimPrefix(srv.URL, "http://"))

	code, err := HTTP{URL: "http://www.example.org/a?b=1", UserAgent: "ua", BodyLimit: 10}.Get(context.Background(), addr)
	if err != nil || code != 200 {
		t.Fatalf("Get = %d, %v", code, err)
	}
	if gotHost != "www.example.org" || gotUA != "ua" || gotPath != "/a?b=1" {
		t.Errorf("request Host %q UA %q path %q: want the URL's host and path, sent to the server's address", gotHost, gotUA, gotPath)
	}
	if code, err := (HTTP{URL: "http://x/redirect"}).Get(context.Background(), addr); err != nil || code != 302 {
		t.Errorf("redirect: %d, %v; want 302 (not followed)", code, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := (HTTP{URL: "http://x/slow"}).Get(ctx, addr); !errors.Is(err, ErrTimedOut) {
		t.Errorf("slow server: %v, want ErrTimedOut", err)
	}
	if _, err := (HTTP{URL: "http://x/"}).Get(context.Background(), closedPort(t)); err == nil || strings.HasPrefix(err.Error(), "Get ") {
		t.Errorf("closed port: %v, want the dial error without net/http's prefix", err)
	}
}

func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	return netip.MustParseAddrPort(l.Addr().String())
}

func TestTCPConnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := TCPConnect(context.Background(), netip.MustParseAddrPort(l.Addr().String())); err != nil {
		t.Errorf("open port: %v", err)
	}
	if err := TCPConnect(context.Background(), closedPort(t)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("closed port: %v, want ECONNREFUSED", err)
	}
}

func TestCommand(t *testing.T) {
	out, err := Command(context.Background(), []string{"/bin/sh", "-c", `echo "$HOME$LANG$USER|$(pwd)"; echo err >&2; head -c 70000 /dev/zero; exit 3`})
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Fatalf("Command = %v, want exit status 3", err)
	}
	if !strings.HasPrefix(string(out.Stdout), "|/\n") || string(out.Stderr) != "err\n" {
		t.Errorf("stdout %.20q stderr %q: want an empty environment, cwd / and both streams", out.Stdout, out.Stderr)
	}
	if len(out.Stdout) != OutputLimit {
		t.Errorf("stdout kept %d bytes, want %d", len(out.Stdout), OutputLimit)
	}
	if _, err := Command(context.Background(), nil); err == nil {
		t.Error("an empty argv ran")
	}
}

func TestCommandTimeoutKillsTheGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Command(ctx, []string{"/bin/sh", "-c", "sleep 30 & echo $! > " + pidFile + "; wait"}); err == nil || ctx.Err() == nil {
		t.Fatalf("Command = %v with ctx %v, want a killed run", err, ctx.Err())
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// The grandchild was sent SIGKILL with its group. On a busy machine it
	// may still be running on its way out when Command returns, and then
	// linger as a zombie of init for a moment: wait until it is dead
	// (zombie or gone), which never happens if the kill was not sent.
	testutil.WaitFor(t, "the command's child to die with its group", func() bool {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		return err != nil || strings.Contains(string(st), ") Z ")
	})
}

// rawServer answers every connection with the chunks of resp, written
// one by one, after reading the request's first bytes.
func rawServer(t *testing.T, resp ...string) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Read(make([]byte, 512))
			for _, r := range resp {
				if _, err := io.WriteString(c, r); err != nil {
					break
				}
			}
			c.Close()
		}
	}()
	return netip.MustParseAddrPort(l.Addr().String())
}

func TestHTTPGetResponses(t *testing.T) {
	tests := []struct {
		name    string
		resp    []string
		want    int
		wantErr string
	}{
		{"interim responses are skipped", []string{"HTTP/1.1 100 Continue\r\nX: y\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n"}, 204, ""},
		{"101 is final", []string{"HTTP/1.1 101 Switching Protocols\r\n\r\n"}, 101, ""},
		{"status line in pieces, LF ends", []string{"HTT", "P/1.0 50", "3\nServer: x\n\nbody"}, 503, ""},
		{"no reason phrase", []string{"HTTP/1.1 200\r\n\r\n"}, 200, ""},
		{"not HTTP", []string{"SSH-2.0-OpenSSH_9.2\r\n"}, 0, "malformed HTTP response"},
		{"bad code", []string{"HTTP/1.1 2x0 OK\r\n\r\n"}, 0, "malformed HTTP status code"},
		{"closed before the headers end", []string{"HTTP/1.1 200 OK\r\nX: y\r\n"}, 0, "unexpected EOF"},
		{"closed at once", nil, 0, "unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, err := HTTP{URL: "http://x/"}.Get(context.Background(), rawServer(t, tc.resp...))
			if code != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Get = %d, %v; want %d, %q", code, err, tc.want, tc.wantErr)
			}
		})
	}
}

// A connect that never completes (the listener's accept queue is full,
// so the kernel drops the SYNs) times out: it is not taken for an
// established connection.
func TestTCPConnectPending(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*syscall.SockaddrInet4).Port))
	// With a backlog of 0, one connection fills the accept queue (the
	// listener turns readable); connections past it stay pending.
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := TCPConnect(ctx, addr); !errors.Is(err, ErrTimedOut) {
		t.Errorf("TCPConnect to a full accept queue = %v, want ErrTimedOut", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := (HTTP{URL: "http://x/"}).Get(ctx, addr); !errors.Is(err, ErrTimedOut) {
		t.Errorf("HTTP Get to a full accept queue = %v, want ErrTimedOut", err)
	}
}

// A command that exits 0 while a process it started still holds its
// output open succeeded: Command returns within about a second with no
// error and the output written so far.
func TestCommandExitZeroWithPipesHeldOpen(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	killSleep := func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	out, err := Command(context.Background(), []string{"/bin/sh", "-c", "echo up; sleep 30 & echo $! > " + pidFile + "; exit 0"})
	killSleep()
	if err != nil || string(out.Stdout) != "up\n" {
		t.Errorf("Command = %q, %v; want the output and no error", out.Stdout, err)
	}
	_, err = Command(context.Background(), []string{"/bin/sh", "-c", "sleep 30 & echo $! > " + pidFile + "; exit 4"})
	killSleep()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 4 {
		t.Errorf("a failing command whose pipes stay open: %v, want exit status 4", err)
	}
}
