package coordinator

import (
	"fmt"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/pool"
	"github.com/prometheus/client_golang/prometheus"
)

// benchCoordinator has n enabled servers, none resolved yet, with the
// daemon's settings for the etcd benchmark (threshold .5, no monitor) and
// metrics, as lvsd runs it.
func benchCoordinator(n int) (*Coordinator, pool.Pool) {
	set := Settings{Name: "apache2_80", Port: 80, Forward: ipvs.DirectRoute, DepoolThreshold: 0.5,
		Service: ipvs.Service{Key: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.3.1"), Port: 80}, Scheduler: "wrr"}}
	c := New(set, slog.New(slog.DiscardHandler), NewMetrics(prometheus.NewRegistry()), func() {})
	p := pool.Pool{}
	for i := range n {
		p[benchHost(i)] = pool.Server{Enabled: true, Weight: 10}
	}
	c.UpdatePool(p)
	return c, p
}

func benchHost(i int) string { return fmt.Sprintf("127.%d.%d.%d", 100+i/65536, i/256%256, i%256) }

func benchAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(100 + i/65536), byte(i / 256 % 256), byte(i % 256)})
}

// BenchmarkInitialPool10k is a service's start with 10,000 servers: the
// pool applied, then each server resolved in turn (as lvsd's per-server
// goroutines report them).
func BenchmarkInitialPool10k(b *testing.B) {
	const n = 10000
	for b.Loop() {
		c, _ := benchCoordinator(n)
		for i := range n {
			c.SetResolved(benchHost(i), benchAddr(i))
		}
		if got := len(c.Desired().Destinations); got != n {
			b.Fatalf("%d destinations, want %d", got, n)
		}
	}
}

// benchResolved is benchCoordinator with every server resolved.
func benchResolved(b *testing.B, n int) (*Coordinator, pool.Pool) {
	c, p := benchCoordinator(n)
	for i := range n {
		c.SetResolved(benchHost(i), benchAddr(i))
	}
	b.ResetTimer()
	return c, p
}

// BenchmarkUpdatePoolOneWeight10k is a whole pool of 10,000 servers applied
// with one server's weight changed (a pool file's, or before the delta
// path, every etcd change's).
func BenchmarkUpdatePoolOneWeight10k(b *testing.B) {
	const n = 10000
	c, p := benchResolved(b, n)
	i := 0
	for b.Loop() {
		h := benchHost(i % n)
		p[h] = pool.Server{Enabled: true, Weight: 10 + uint32(i%2)}
		c.UpdatePool(p)
		i++
	}
}

// BenchmarkDesired10k is the desired IPVS state of 10,000 pooled servers,
// computed on every reconciliation.
func BenchmarkDesired10k(b *testing.B) {
	const n = 10000
	c, _ := benchResolved(b, n)
	for b.Loop() {
		if len(c.Desired().Destinations) != n {
			b.Fatal("wrong desired state")
		}
	}
}
