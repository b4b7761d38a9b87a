//go:build linux

package authdns

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

func TestUDPRcvBufKey(t *testing.T) {
	tests := []struct {
		value string // "" leaves the key out
		want  int
		err   string
	}{
		{"", DefaultUDPRcvBuf, ""},
		{"0", 0, ""},
		{"65536", 65536, ""},
		{"8MiB", 8 << 20, ""},
		{"512 KiB", 512 << 10, ""},
		{"1024", 0, "/etc/x/authdns.yaml:3: udp_rcvbuf: want 0 (the kernel's default) or bytes from 65536"},
		{"2048MiB", 0, "udp_rcvbuf: want 0"},
		{"-1", 0, "udp_rcvbuf: want 0"},
		{"4MB", 0, "udp_rcvbuf: want 0"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			y := "listen: [\"127.0.0.1:53\"]\nzones: z\n"
			if tt.value != "" {
				y += "udp_rcvbuf: " + tt.value + "\n"
			}
			c, err := ParseConfig("/etc/x/authdns.yaml", []byte(y))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || c.UDPRcvBuf != tt.want {
				t.Fatalf("UDPRcvBuf = %v (%v), want %d", c, err, tt.want)
			}
		})
	}
}

// effectiveRcvBuf is what Linux reports for a request of want bytes: the
// request doubled, capped at rmem_max unless this process may force it.
func effectiveRcvBuf(t *testing.T, want int) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, want) == nil {
		return 2 * want
	}
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Fatal(err)
	}
	max, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return 2 * min(want, max)
}

// The effective size is exported per listen address, and a reload that
// changes udp_rcvbuf resizes the sockets in place.
func TestUDPRcvBufMetricFollowsReload(t *testing.T) {
	metrics := testutil.FreeAddr(t)
	d, dir := testDaemon(t, "metrics: "+metrics+"\nudp_rcvbuf: 1MiB\n")
	addr := d.Server().Addrs()[0].String()
	series := func(want int) string {
		return fmt.Sprintf("authdns_udp_rcvbuf_bytes{listen=%q} %g\n", addr, float64(effectiveRcvBuf(t, want)))
	}
	if body := get(t, "http://"+metrics+"/metrics"); !strings.Contains(body, series(1<<20)) {
		t.Fatalf("metrics lack %q", series(1<<20))
	}
	cfg := "listen: [\"127.0.0.1:0\"]\ndata: data\nudp_sockets: 1\nmetrics: " + metrics + "\nudp_rcvbuf: 2MiB\n"
	if err := os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := d.Server().Addrs()[0].String(); got != addr {
		t.Fatalf("the reload moved %s to %s", addr, got)
	}
	if body := get(t, "http://"+metrics+"/metrics"); !strings.Contains(body, series(2<<20)) {
		t.Fatalf("after the reload, metrics lack %q", series(2<<20))
	}
	if got := askA(t, d, "www.example.com."); got != "192.0.2.1" {
		t.Fatalf("after the resize: %s", got)
	}
}
