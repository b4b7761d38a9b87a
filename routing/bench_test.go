package routing

import (
	"fmt"
	"strings"
	"testing"
)

// benchConfig builds a config of n sites in a chain of tiers, with two
// direct core sites and apps, for c clusters.
func benchConfig(b *testing.B, n, c int) *Config {
	var s strings.Builder
	s.WriteString("sites:\n")
	for i := range n {
		fmt.Fprintf(&s, "  s%d: {coords: [%d, %d]}\n", i, i%90, (i*7)%180)
	}
	s.WriteString("clusters:\n")
	for k := range c {
		fmt.Fprintf(&s, "  c%d:\n    route_table:\n      s0: direct\n      s1: direct\n", k)
		for i := 2; i < n; i++ {
			if i/2 == i-1 {
				fmt.Fprintf(&s, "      s%d: s%d\n", i, i-1)
			} else {
				fmt.Fprintf(&s, "      s%d: [s%d, s%d]\n", i, i/2, i-1)
			}
		}
		s.WriteString("    apps:\n      a: {route: {active-active: [s0, s1]}, backends: {s0: a0, s1: a1}}\n")
		s.WriteString("      b: {route: [s0, s1], backends: {s0: b0, s1: b1}}\n")
	}
	cfg, err := Parse("bench.yaml", []byte(s.String()))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func BenchmarkResolve(b *testing.B) {
	for _, n := range []int{8, 64} {
		cfg := benchConfig(b, n, 4)
		st := WithDown(nil, []string{"s0", "s3"})
		b.Run(fmt.Sprintf("sites=%d/clusters=4", n), func(b *testing.B) {
			for b.Loop() {
				Resolve(cfg, st)
			}
		})
	}
}
