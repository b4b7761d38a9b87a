//go:build linux

package authdnse2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// wantRcvBuf is what Linux reports for a request of n bytes by this user:
// doubled, and capped at rmem_max without CAP_NET_ADMIN.
func wantRcvBuf(t *testing.T, n int) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) == nil {
		return 2 * n
	}
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Fatal(err)
	}
	max, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return 2 * min(n, max)
}

// The default 4 MiB receive buffer, read back from the real sockets, in
// the start log and in the metrics, for each listen address.
func TestUDPRcvBufDefaultLoggedAndExported(t *testing.T) {
	metrics := testutil.FreeAddr(t)
	s := startServerWith(t, "metrics: "+metrics+"\n", "")
	want := wantRcvBuf(t, 4<<20)
	for _, addr := range []string{s.addr, s.addr6} {
		line := fmt.Sprintf("udp=%s tcp=%s udp_sockets=2 udp_rcvbuf=4194304 udp_rcvbuf_effective=%d", addr, addr, want)
		if !strings.Contains(s.Logs(), line) {
			t.Errorf("start log lacks %q:\n%s", line, s.Logs())
		}
		series := fmt.Sprintf("authdns_udp_rcvbuf_bytes{listen=%q}", addr)
		if got := scrape(t, metrics)[series]; got != float64(want) {
			t.Errorf("%s = %v, want %d", series, got, want)
		}
	}
}
