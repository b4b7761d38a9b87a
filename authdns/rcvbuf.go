package authdns

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/dnsserver"
)

// DefaultUDPRcvBuf is the receive buffer asked for each UDP socket when
// authdns.yaml has no udp_rcvbuf.
const DefaultUDPRcvBuf = dnsserver.DefaultUDPRcvBuf

// maxUDPRcvBuf is the largest request Linux honours: it halves INT_MAX
// before doubling the value.
const maxUDPRcvBuf = 1<<30 - 1

// parseRcvBuf reads udp_rcvbuf: bytes, optionally with a KiB or MiB
// suffix, 0 (leave the kernel's default) or from 64 KiB to 1 GiB.
func parseRcvBuf(s string) (int, error) {
	mult, num := 1, strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}} {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			mult, num = u.mult, strings.TrimSpace(n)
			break
		}
	}
	n, err := strconv.Atoi(num)
	bad := fmt.Errorf("want 0 (the kernel's default) or bytes from 65536 to 1073741823, optionally as KiB or MiB (4MiB); default %d", DefaultUDPRcvBuf)
	if err != nil || n < 0 || n > maxUDPRcvBuf/mult {
		return 0, bad
	}
	if n *= mult; n != 0 && n < 64<<10 {
		return 0, bad
	}
	return n, nil
}

// rcvBufCollector exports the receive buffer the kernel gave each listen
// address's UDP sockets, read back from the sockets: without
// CAP_NET_ADMIN it can be far below udp_rcvbuf.
type rcvBufCollector struct {
	srv  *dnsserver.Server
	desc *prometheus.Desc
}

func newRcvBufCollector(srv *dnsserver.Server) *rcvBufCollector {
	return &rcvBufCollector{srv: srv, desc: prometheus.NewDesc("authdns_udp_rcvbuf_bytes",
		"Effective receive buffer of the UDP sockets of each listen address (the smallest of its sockets), as getsockopt(SO_RCVBUF) reads it: on Linux twice the bytes granted.",
		[]string{"listen"}, nil)}
}

func (c *rcvBufCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *rcvBufCollector) Collect(ch chan<- prometheus.Metric) {
	for _, b := range c.srv.UDPRcvBufs() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(b.Bytes), b.Listen)
	}
}
