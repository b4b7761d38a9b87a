package conf

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecodeYAMLNets decodes a nets file of 10,000 prefixes in one
// mapping: goccy/go-yaml's parser grows faster than linearly with the
// keys of one mapping, so this is the size to watch.
func BenchmarkDecodeYAMLNets(b *testing.B) {
	var sb strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&sb, "10.%d.%d.0/24: [dc1, dc2]\n", i/256, i%256)
	}
	data := []byte(sb.String())
	for b.Loop() {
		if _, err := DecodeYAML("nets", data); err != nil {
			b.Fatal(err)
		}
	}
}
