package pool

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// Lookup resolves a name to addresses; *net.Resolver's LookupNetIP fits.
type Lookup func(ctx context.Context, network, host string) ([]netip.Addr, error)

// Resolve returns host's address in the family of vip (an IP literal is
// used as is). To keep IPVS stable across re-resolutions, the current
// address is kept while the name still resolves to it; otherwise the
// lowest address is chosen.
func Resolve(ctx context.Context, lookup Lookup, host string, vip netip.Addr, current netip.Addr) (netip.Addr, error) {
	want6 := vip.Is6() && !vip.Is4In6()
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if a.Is6() != want6 {
			return netip.Addr{}, fmt.Errorf("address %s is not of the VIP's family (%s)", a, vip)
		}
		return a, nil
	}
	network := "ip4"
	if want6 {
		network = "ip6"
	}
	if lookup == nil {
		lookup = net.DefaultResolver.LookupNetIP
	}
	addrs, err := lookup(ctx, network, host)
	if err != nil {
		return netip.Addr{}, err
	}
	var fam []netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is6() == want6 {
			fam = append(fam, a)
		}
	}
	if len(fam) == 0 {
		return netip.Addr{}, fmt.Errorf("no %s address for %s", network, host)
	}
	if current.IsValid() && slices.Contains(fam, current) {
		return current, nil
	}
	slices.SortFunc(fam, func(a, b netip.Addr) int { return a.Compare(b) })
	return fam[0], nil
}
