//go:build kernelvm

package kernele2e

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// TestScale programs 100 services of 10 real servers, then checks that a
// resync over that table writes nothing. It logs the durations as figures
// (under TCG emulation, so slow compared with real hardware); it asserts
// only behaviour.
func TestScale(t *testing.T) {
	c := rawClient(t)
	flush(t, c)
	d := newDirectorQuiet(t)
	var cfg []ipvs.Desired
	for i := range 100 {
		s := ipvs.Desired{Service: ipvs.Service{Key: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.AddrFrom4([4]byte{198, 18, 0, byte(i)}), Port: 443}, Scheduler: "wlc"}}
		for j := range 10 {
			s.Destinations = append(s.Destinations, ipvs.Destination{Addr: netip.AddrFrom4([4]byte{198, 19, byte(i), byte(j + 1)}), Weight: 10})
		}
		cfg = append(cfg, s)
	}
	start := time.Now()
	ops, err := d.Reconcile(t.Context(), cfg)
	if err != nil || len(ops) != 1100 {
		t.Fatalf("%d ops, err %v; want 1100", len(ops), err)
	}
	create := time.Since(start)
	start = time.Now()
	ops, err = d.Reconcile(t.Context(), cfg)
	if err != nil || len(ops) != 0 {
		t.Fatalf("resync: %d ops, err %v", len(ops), err)
	}
	resync := time.Since(start)
	fmt.Printf("figure: 1100 netlink writes in %v (%.0f/s); unchanged resync of 100x10 in %v\n",
		create.Round(time.Millisecond), 1100/create.Seconds(), resync.Round(time.Millisecond))
	flush(t, c)
}

// newDirectorQuiet is newDirector without the per-op log.
func newDirectorQuiet(t *testing.T) ipvs.Director {
	t.Helper()
	d, err := ipvs.NewKernel(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
