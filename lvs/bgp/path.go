package bgp

import (
	"fmt"
	"net/netip"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/protobuf/proto"
	apb "google.golang.org/protobuf/types/known/anypb"
)

var (
	familyV4 = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	familyV6 = &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
)

func familyName(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "ipv4"
	}
	return "ipv6"
}

// apiPath builds the gobgp path for one route: ORIGIN IGP, AS_PATH, NEXT_HOP
// (MP_REACH_NLRI for IPv6), MED and COMMUNITIES. The caller has checked the
// route with CheckRoutes.
func (c Config) apiPath(r Route) (*api.Path, error) {
	nlri, err := apb.New(&api.IPAddressPrefix{Prefix: r.Prefix.Addr().String(), PrefixLen: uint32(r.Prefix.Bits())})
	if err != nil {
		return nil, fmt.Errorf("route %s: nlri: %w", r.Prefix, err)
	}
	attrs := []proto.Message{&api.OriginAttribute{Origin: 0}} // 0 = IGP
	if p := c.wireASPath(); len(p) > 0 {
		attrs = append(attrs, &api.AsPathAttribute{Segments: []*api.AsSegment{{Type: api.AsSegment_AS_SEQUENCE, Numbers: p}}})
	}
	family := familyV4
	if r.Prefix.Addr().Is4() {
		attrs = append(attrs, &api.NextHopAttribute{NextHop: c.NextHopV4.Unmap().String()})
	} else {
		family = familyV6
		attrs = append(attrs, &api.MpReachNLRIAttribute{Family: familyV6, NextHops: []string{c.NextHopV6.String()}, Nlris: []*apb.Any{nlri}})
	}
	attrs = append(attrs, &api.MultiExitDiscAttribute{Med: r.MED})
	if len(c.Communities) > 0 {
		cs := make([]uint32, len(c.Communities))
		for i, cm := range c.Communities {
			cs[i] = uint32(cm.ASN)<<16 | uint32(cm.Value)
		}
		attrs = append(attrs, &api.CommunitiesAttribute{Communities: cs})
	}
	pattrs := make([]*apb.Any, len(attrs))
	for i, a := range attrs {
		if pattrs[i], err = apb.New(a); err != nil {
			return nil, fmt.Errorf("route %s: attribute %T: %w", r.Prefix, a, err)
		}
	}
	return &api.Path{Family: family, Nlri: nlri, Pattrs: pattrs}, nil
}
