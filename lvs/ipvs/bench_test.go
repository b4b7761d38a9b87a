package ipvs

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
)

// scaleConfig is n services of m real servers each.
func scaleConfig(n, m int) []Desired {
	out := make([]Desired, 0, n)
	for i := range n {
		d := Desired{Service: Service{Key: ServiceKey{Protocol: TCP, Addr: netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), Port: 443}, Scheduler: "wlc"}}
		for j := range m {
			d.Destinations = append(d.Destinations, Destination{Addr: netip.AddrFrom4([4]byte{10, 64, byte(j >> 8), byte(j)}), Weight: 10})
		}
		out = append(out, d)
	}
	return out
}

// BenchmarkReconcileUnchanged measures the diff pass a periodic resync
// costs when nothing changed (the in-memory kernel, so it is the
// reconciler's own cost, not netlink's).
func BenchmarkReconcileUnchanged(b *testing.B) {
	for _, size := range [][2]int{{10, 20}, {100, 50}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			cfg := scaleConfig(size[0], size[1])
			r := newReconciler(newMemKernel(), nil, false)
			ctx := context.Background()
			if _, err := r.Reconcile(ctx, cfg); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if ops, err := r.Reconcile(ctx, cfg); err != nil || len(ops) != 0 {
					b.Fatalf("ops %d err %v", len(ops), err)
				}
			}
		})
	}
}
