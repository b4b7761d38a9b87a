package authdns

import (
	"net/netip"
	"strings"

	"github.com/geotraffic/geotraffic/dnsserver/rrl"
	"github.com/geotraffic/geotraffic/internal/conf"
)

// rrlKeys are the keys of the `rrl:` mapping.
var rrlKeys = []string{"responses_per_second", "nxdomains_per_second", "errors_per_second", "window", "slip",
	"ipv4_prefix", "ipv6_prefix", "exempt", "table_size", "log_only"}

// parseRRL reads the `rrl:` mapping (response rate limiting; off when the
// key is absent); errors are file:line: rrl.KEY: reason.
func parseRRL(l *conf.List, n *conf.Node) *rrl.Config {
	if n.Kind != conf.MappingNode {
		l.Addf(n.Pos, "rrl", "want a mapping: {responses_per_second: 20, ...}")
		return nil
	}
	c := &rrl.Config{ResponsesPerSecond: -1, NXDomainsPerSecond: -1, ErrorsPerSecond: -1, Window: rrl.DefaultWindow,
		Slip: rrl.DefaultSlip, IPv4Prefix: rrl.DefaultIPv4Prefix, IPv6Prefix: rrl.DefaultIPv6Prefix,
		TableSize: rrl.DefaultTableSize}
	l.Fields(n, "rrl", rrlKeys, func(key string, _, v *conf.Node) {
		fail := func(format string, args ...any) { l.Addf(v.Pos, "rrl."+key, format, args...) }
		num := func(lo, hi int, dst *int) {
			if i, ok := v.Int(); ok && i >= lo && i <= hi {
				*dst = i
				return
			}
			fail("want a whole number from %d to %d", lo, hi)
		}
		switch key {
		case "responses_per_second":
			num(0, rrl.MaxRate, &c.ResponsesPerSecond)
		case "nxdomains_per_second":
			num(0, rrl.MaxRate, &c.NXDomainsPerSecond)
		case "errors_per_second":
			num(0, rrl.MaxRate, &c.ErrorsPerSecond)
		case "window":
			num(1, rrl.MaxWindow, &c.Window)
		case "slip":
			num(0, rrl.MaxSlip, &c.Slip)
		case "ipv4_prefix":
			num(8, 32, &c.IPv4Prefix)
		case "ipv6_prefix":
			num(16, 128, &c.IPv6Prefix)
		case "table_size":
			num(1, rrl.MaxTableSize, &c.TableSize)
		case "log_only":
			b, ok := v.Bool()
			if !ok {
				fail("want true or false")
			}
			c.LogOnly = b
		case "exempt":
			c.Exempt = parseNets(l, v, "rrl."+key)
		}
	})
	if c.ResponsesPerSecond < 0 {
		l.Addf(n.Pos, "rrl.responses_per_second", "required when rrl is set (0 limits answers not at all)")
		c.ResponsesPerSecond = 0
	}
	if c.NXDomainsPerSecond < 0 {
		c.NXDomainsPerSecond = c.ResponsesPerSecond
	}
	if c.ErrorsPerSecond < 0 {
		c.ErrorsPerSecond = c.ResponsesPerSecond
	}
	return c
}

// parseNets reads a list of networks (CIDR, or a single address).
func parseNets(l *conf.List, v *conf.Node, key string) []netip.Prefix {
	list, ok := stringList(v)
	if !ok {
		l.Addf(v.Pos, key, "want a list of networks such as [192.0.2.0/24, \"2001:db8::/32\"]")
		return nil
	}
	var out []netip.Prefix
	for i, s := range list {
		p, err := netip.ParsePrefix(s)
		if !strings.Contains(s, "/") {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			l.Addf(v.Content[i].Pos, key, "%q is not a network (CIDR) or an address", s)
			continue
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		out = append(out, p.Masked())
	}
	return out
}
