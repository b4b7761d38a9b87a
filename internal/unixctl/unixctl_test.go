package unixctl

import (
	"errors"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

func TestAllowed(t *testing.T) {
	for _, tc := range []struct {
		uid, self uint32
		want      bool
	}{{0, 1000, true}, {1000, 1000, true}, {1001, 1000, false}, {0, 0, true}, {1000, 0, false}} {
		if got := Allowed(tc.uid, tc.self); got != tc.want {
			t.Errorf("Allowed(%d, %d) = %v", tc.uid, tc.self, got)
		}
	}
}

// The socket is 0600 from the start, serves its own user and names it; a
// second daemon on the same path is refused and a stale socket replaced.
func TestListen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "ctl.sock")
	ln, err := Listen(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", fi.Mode(), err)
	}
	srv := &http.Server{ConnContext: ConnContext, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(PeerUser(r.Context())))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	cl := &http.Client{Transport: &http.Transport{DialContext: Dialer(path)}}
	resp, err := cl.Get("http://lvsd/")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	buf := make([]byte, 256)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	resp.Body.Close()
	me, _ := user.Current()
	if me != nil && b.String() != me.Username {
		t.Errorf("peer user %q, want %q", b.String(), me.Username)
	}
	if _, err := Listen(path, nil); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("second listener: %v", err)
	}
	srv.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("socket gone on close: %v", err)
	}
	ln2, err := Listen(path, nil)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln2.Close()
}

// A client the daemon closes on without answering (as Accept closes on a
// user it refuses) gets an error naming the socket's path and the rule,
// not the temporary name the socket was bound under.
func TestClientErrorExplainsARefusal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ctl.sock")
	ln, err := Listen(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.UnixListener.AcceptUnix()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	cl := &http.Client{Transport: &http.Transport{DialContext: Dialer(path)}}
	var refused *RefusedError
	for _, method := range []string{http.MethodPost, http.MethodGet} { // a GET is retried, and fails differently
		req, _ := http.NewRequest(method, "http://lvsd/v1/x", strings.NewReader("{}"))
		_, err = cl.Do(req)
		if err == nil {
			t.Fatalf("%s: no error from a closed connection", method)
		}
		got := ClientError(path, err)
		if !errors.As(got, &refused) {
			t.Fatalf("%s: ClientError(%v) = %v, not a RefusedError", method, err, got)
		}
		msg := got.Error()
		if !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, "only root and the daemon's own user") || strings.Contains(msg, "."+filepath.Base(path)+".") {
			t.Errorf("%s: error text: %s", method, msg)
		}
	}

	other := ClientError(path, os.ErrNotExist)
	if errors.As(other, &refused) || other.Error() != path+": "+os.ErrNotExist.Error() {
		t.Errorf("other errors are wrapped with the path only: %v", other)
	}
}
