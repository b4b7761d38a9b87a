package vscf

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseNets parses a geoip nets file of 10,000 prefixes, the
// largest hash a gdnsd config holds.
func BenchmarkParseNets(b *testing.B) {
	var sb strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&sb, "10.%d.%d.0/24 => [dc1, dc2] # note\n", i/256, i%256)
	}
	data := []byte(sb.String())
	for b.Loop() {
		if _, err := Parse("nets", data); err != nil {
			b.Fatal(err)
		}
	}
}
