package sdnotify

import (
	"net"
	"path/filepath"
	"testing"
)

func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestNotifySendsOneDatagram(t *testing.T) {
	for _, name := range []string{filepath.Join(t.TempDir(), "notify"), "@geotraffic-sdnotify-test-" + t.Name()} {
		c := listen(t, name)
		n := New(func(k string) string {
			if k == "NOTIFY_SOCKET" {
				return name
			}
			return ""
		})
		for _, s := range []string{Ready, Reloading, Stopping} {
			if err := n.Notify(s); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64)
			k, err := c.Read(buf)
			if err != nil || string(buf[:k]) != s {
				t.Errorf("%s: got %q, %v; want %q", name, buf[:k], err, s)
			}
		}
	}
}

func TestNoSocketNoOp(t *testing.T) {
	if err := New(func(string) string { return "" }).Notify(Ready); err != nil {
		t.Errorf("without NOTIFY_SOCKET: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "gone")
	if err := New(func(string) string { return missing }).Notify(Ready); err == nil {
		t.Error("a socket that does not exist: no error")
	}
}
