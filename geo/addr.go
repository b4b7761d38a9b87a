package geo

import "net/netip"

// IPv4 can reach us inside IPv6 in several standard forms; like gdnsd, those
// clients are looked up as IPv4 and the scope is reported in the IPv6 query's
// terms: v4 bits + 96 (the IPv4 address is the low 32 bits), or + 16 for
// 6to4 (bits 16..47).
var (
	pfxCompat = netip.MustParsePrefix("::/96")         // gdnsd keeps IPv4 at ::/96, so ::1 is 0.0.0.1
	pfxMapped = netip.MustParsePrefix("::ffff:0:0/96") // v4-mapped
	pfxSIIT   = netip.MustParsePrefix("::ffff:0:0:0/96")
	pfxWKP    = netip.MustParsePrefix("64:ff9b::/96") // NAT64 well-known prefix
	pfxTeredo = netip.MustParsePrefix("2001::/32")    // client IPv4 in the low 32 bits, inverted
	pfx6to4   = netip.MustParsePrefix("2002::/16")
)

// v4Aliases are the IPv6 spaces looked up as IPv4, with their names for
// config errors.
var v4Aliases = []struct {
	p    netip.Prefix
	name string
}{
	{pfxCompat, "::/96 (IPv4-compatible)"},
	{pfxMapped, "::ffff:0:0/96 (IPv4-mapped)"},
	{pfxSIIT, "::ffff:0:0:0/96 (SIIT)"},
	{pfxWKP, "64:ff9b::/96 (NAT64)"},
	{pfxTeredo, "2001::/32 (Teredo)"},
	{pfx6to4, "2002::/16 (6to4)"},
}

// inV4Alias names the IPv4-in-IPv6 space that contains p, if any.
func inV4Alias(p netip.Prefix) string {
	if !p.Addr().Is6() {
		return ""
	}
	for _, a := range v4Aliases {
		if p.Bits() >= a.p.Bits() && a.p.Contains(p.Addr()) {
			return a.name
		}
	}
	return ""
}

// toV4 returns the IPv4 address a stands for and the bits its IPv4 part is
// offset by in a's own terms; ok is false for native IPv6.
func toV4(a netip.Addr) (v4 uint32, offset uint8, ok bool) {
	if a.Is4() {
		b := a.As4()
		return be32(b[:]), 0, true
	}
	b := a.As16()
	hi := be64(b[:8])
	low32 := be32(b[12:])
	mid := be32(b[8:12])
	switch {
	case hi == 0 && mid == 0: // ::/96, incl. ::1
		return low32, 96, true
	case hi == 0 && mid == 0xffff: // ::ffff:0:0/96
		return low32, 96, true
	case hi == 0 && mid == 0xffff0000: // ::ffff:0:0:0/96
		return low32, 96, true
	case hi == 0x0064ff9b00000000 && mid == 0:
		return low32, 96, true
	case hi>>32 == 0x20010000:
		return ^low32, 96, true
	case hi>>48 == 0x2002:
		return uint32(hi >> 16), 16, true
	}
	return 0, 0, false
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func be64(b []byte) uint64 {
	return uint64(be32(b[:4]))<<32 | uint64(be32(b[4:8]))
}

// u128 is an address in one of our trees: IPv4 is kept in the top 32 bits
// so both trees share the bit-walking code (bit 0 = most significant).
type u128 struct{ hi, lo uint64 }

func addrU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{uint64(be32(b[:])) << 32, 0}
	}
	b := a.As16()
	return u128{be64(b[:8]), be64(b[8:])}
}

func (x u128) bit(i int) uint64 {
	if i < 64 {
		return (x.hi >> (63 - i)) & 1
	}
	return (x.lo >> (127 - i)) & 1
}

func (x u128) less(y u128) bool { return x.hi < y.hi || (x.hi == y.hi && x.lo < y.lo) }

// lastOf is the last address of the prefix starting at x with the given bits.
func (x u128) lastOf(bits int) u128 {
	switch {
	case bits == 0:
		return u128{^uint64(0), ^uint64(0)}
	case bits < 64:
		return u128{x.hi | (^uint64(0) >> bits), ^uint64(0)}
	case bits == 64:
		return u128{x.hi, ^uint64(0)}
	default:
		return u128{x.hi, x.lo | (^uint64(0) >> (bits - 64))}
	}
}

// withBit returns x with bit i set.
func (x u128) withBit(i int) u128 {
	if i < 64 {
		x.hi |= 1 << (63 - i)
	} else {
		x.lo |= 1 << (127 - i)
	}
	return x
}

func (x u128) next() u128 {
	if x.lo == ^uint64(0) {
		return u128{x.hi + 1, 0}
	}
	return u128{x.hi, x.lo + 1}
}
