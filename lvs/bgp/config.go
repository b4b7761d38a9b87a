package bgp

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Defaults applied by New for zero values.
const (
	DefaultPort         = 179
	DefaultHoldTime     = 30 * time.Second
	DefaultConnectRetry = 3 * time.Second
)

// withDefaults fills the zero values the way pybal.conf's defaults do.
// A HoldTime of 0 means the default: gobgp cannot run without a hold timer.
func (c Config) withDefaults() Config {
	if c.PeerPort == 0 {
		c.PeerPort = DefaultPort
	}
	if c.LocalPort == 0 {
		c.LocalPort = DefaultPort
	}
	if c.HoldTime == 0 {
		c.HoldTime = DefaultHoldTime
	}
	if c.ConnectRetry == 0 {
		c.ConnectRetry = DefaultConnectRetry
	}
	if len(c.ASPath) == 0 && c.LocalASN != 0 {
		c.ASPath = []uint32{c.LocalASN}
	}
	if !c.RouterID.IsValid() {
		c.RouterID = c.defaultRouterID()
	}
	return c
}

func (c Config) defaultRouterID() netip.Addr {
	for _, a := range c.LocalIPs {
		if a.Unmap().Is4() {
			return a.Unmap()
		}
	}
	if c.NextHopV4.IsValid() {
		return c.NextHopV4.Unmap()
	}
	return netip.Addr{}
}

// Validate reports every problem in the configuration, each naming the
// pybal.conf key, so lvs/config can prefix file and line. It checks the
// values after defaults, so an empty bgp-as-path or router id is fine when
// a default can be derived.
func (c Config) Validate() error {
	d := c.withDefaults()
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if d.LocalASN == 0 {
		bad("bgp-local-asn", "missing or 0")
	}
	if len(d.Peers) == 0 {
		bad("bgp-peer-address", "no peer configured")
	}
	seen := map[netip.Addr]bool{}
	for _, p := range d.Peers {
		switch {
		case !p.IsValid() || p.IsUnspecified() || p.IsMulticast():
			bad("bgp-peer-address", "%v is not a unicast address", p)
		case seen[p.Unmap()]:
			bad("bgp-peer-address", "%s listed twice", p)
		case len(d.LocalIPs) > 0 && !d.localAddrFor(p).IsValid():
			bad("bgp-local-ips", "no address of the family of peer %s (sessions are opened from bgp-local-ips)", p)
		}
		seen[p.Unmap()] = true
	}
	for _, a := range d.LocalIPs {
		if !a.IsValid() || a.IsMulticast() {
			bad("bgp-local-ips", "%v is not a unicast address", a)
		}
	}
	for _, asn := range d.ASPath {
		if asn == 0 {
			bad("bgp-as-path", "ASN 0 is reserved")
		}
	}
	switch {
	case !d.RouterID.IsValid():
		bad("bgp-router-id", "missing: set it, or give an IPv4 address in bgp-local-ips or bgp-nexthop-ipv4")
	case !d.RouterID.Unmap().Is4() || d.RouterID.IsUnspecified():
		bad("bgp-router-id", "%s is not a non-zero IPv4 address", d.RouterID)
	}
	if d.NextHopV4.IsValid() && (!d.NextHopV4.Unmap().Is4() || d.NextHopV4.IsUnspecified()) {
		bad("bgp-nexthop-ipv4", "%s is not a non-zero IPv4 address", d.NextHopV4)
	}
	if d.NextHopV6.IsValid() && (!d.NextHopV6.Is6() || d.NextHopV6.Is4In6() || d.NextHopV6.IsUnspecified()) {
		bad("bgp-nexthop-ipv6", "%s is not a non-zero IPv6 address", d.NextHopV6)
	}
	if !d.NextHopV4.IsValid() && !d.NextHopV6.IsValid() {
		bad("bgp-nexthop-ipv4", "neither bgp-nexthop-ipv4 nor bgp-nexthop-ipv6 is set: nothing could be announced")
	}
	if d.HoldTime < 3*time.Second || d.HoldTime > 65535*time.Second {
		bad("bgp-hold-time", "%v is outside 3 s to 65535 s", d.HoldTime)
	}
	if d.ConnectRetry < time.Second {
		bad("bgp-connect-retry", "%v is below 1 s", d.ConnectRetry)
	}
	return errors.Join(errs...)
}

// CheckRoutes reports the routes that could not be announced with this
// configuration: not a host route (/32, /128), or of a family without a
// next hop. lvs/config can call it with the VIPs at load time; SetRoutes
// calls it before changing anything.
func (c Config) CheckRoutes(routes []Route) error {
	var errs []error
	seen := map[netip.Prefix]bool{}
	for _, r := range routes {
		p := r.Prefix
		switch {
		case !p.IsValid():
			errs = append(errs, fmt.Errorf("route %v: invalid prefix", p))
		case p.Addr().Is4In6():
			errs = append(errs, fmt.Errorf("route %s: IPv4-mapped IPv6 prefix, use the IPv4 form", p))
		case p.Bits() != p.Addr().BitLen():
			errs = append(errs, fmt.Errorf("route %s: not a host route (/32 or /128)", p))
		case p.Addr().Is4() && !c.NextHopV4.IsValid():
			errs = append(errs, fmt.Errorf("route %s: bgp-nexthop-ipv4 is not set", p))
		case p.Addr().Is6() && !c.NextHopV6.IsValid():
			errs = append(errs, fmt.Errorf("route %s: bgp-nexthop-ipv6 is not set", p))
		case seen[p]:
			errs = append(errs, fmt.Errorf("route %s: listed twice", p))
		}
		seen[p] = true
	}
	return errors.Join(errs...)
}

// localAddrFor is the bgp-local-ips address sessions to peer are opened
// from, so routers can tell directors apart; invalid when none fits.
func (c Config) localAddrFor(peer netip.Addr) netip.Addr {
	for _, a := range c.LocalIPs {
		if a.Unmap().Is4() == peer.Unmap().Is4() {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// wireASPath is the AS_PATH attribute given to gobgp. gobgp prepends the
// local ASN itself on eBGP sessions, so one leading LocalASN is dropped:
// an eBGP router then sees exactly bgp-as-path (PyBal's wire format) when
// the path starts with LocalASN, and LocalASN followed by the path when it
// does not; an iBGP router does not see the leading LocalASN (it would
// reject its own ASN as a loop).
func (c Config) wireASPath() []uint32 {
	p := c.ASPath
	if len(p) > 0 && p[0] == c.LocalASN {
		p = p[1:]
	}
	return p
}
