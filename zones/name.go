package zones

import (
	"fmt"

	"github.com/miekg/dns"
)

// Names are handled in wire format throughout: a lowercase wire name is the
// map key, so a query name read off the packet can be looked up without
// converting it to text.

// wireName packs a presentation name (FQDN) into wire format.
func wireName(name string) ([]byte, error) {
	var buf [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("name %q: %w", name, err)
	}
	return append([]byte(nil), buf[:n]...), nil
}

// lowerWire returns a lowercased copy of a wire name (ASCII only, as DNS
// case-insensitivity is defined).
func lowerWire(w []byte) []byte {
	out := make([]byte, len(w))
	LowerInto(out, w)
	return out
}

// LowerInto lowercases the wire name src into dst (len(dst) >= len(src)).
// Length bytes are never in 'A'..'Z' range issues: labels are at most 63
// bytes long, below 'A' (65).
func LowerInto(dst, src []byte) {
	for i, c := range src {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
}

// labelOffsets fills offs with the offset of each label of the wire name w,
// from the full name (0) to the last label before the root, and returns the
// count. w must be a valid uncompressed wire name.
func labelOffsets(w []byte, offs *[128]int) int {
	n := 0
	for i := 0; i < len(w) && w[i] != 0 && n < len(offs); i += int(w[i]) + 1 {
		offs[n] = i
		n++
	}
	return n
}

// isSubdomain reports whether child (wire) equals or is below parent (wire).
func isSubdomain(child, parent []byte) bool {
	if len(parent) > len(child) {
		return false
	}
	var offs [128]int
	n := labelOffsets(child, &offs)
	if len(parent) == 1 { // root
		return true
	}
	for i := 0; i < n; i++ {
		if string(child[offs[i]:]) == string(parent) {
			return true
		}
	}
	return false
}

// presentation renders a wire name for messages.
func presentation(w []byte) string {
	s, _, err := dns.UnpackDomainName(w, 0)
	if err != nil {
		return fmt.Sprintf("%q", w)
	}
	return s
}
