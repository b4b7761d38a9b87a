package bgpe2e

import (
	"context"
	"net/netip"
	"testing"

	"github.com/geotraffic/geotraffic/lvs/bgp"
)

// TestBirdIPv6Session: the session itself runs over IPv6 (::1 on both
// ends), from the bgp-local-ips address of the peer's family, and carries
// both an IPv6 and an IPv4 VIP.
func TestBirdIPv6Session(t *testing.T) {
	port := FreePort(t)
	b := StartBird(t, BirdConfig{RouterID: "10.255.0.1", Address: "::1", Port: port, ASN: routerASN,
		Peers: []BirdPeer{{Name: "lvs6", Address: "::1", ASN: directorASN}}})
	cfg := director(2, port, t)
	cfg.Peers = []netip.Addr{netip.MustParseAddr("::1")}
	cfg.LocalIPs = []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("::1")}
	s := startSpeaker(t, cfg)
	if err := s.SetRoutes(context.Background(), []bgp.Route{{Prefix: vip6, MED: 6}, {Prefix: vip4, MED: 4}}); err != nil {
		t.Fatal(err)
	}
	r6 := waitBest(t, b, vip6, "lvs6", 6)
	if r6.NextHop != "2001:db8::2" || r6.ASPath != "64600" || r6.Kind != "unicast" {
		t.Errorf("IPv6 VIP over the IPv6 session: %+v", r6)
	}
	r4 := waitBest(t, b, vip4, "lvs6", 4)
	if r4.NextHop != "10.0.0.2" {
		t.Errorf("IPv4 VIP over the IPv6 session: %+v", r4)
	}
	if p := s.Peers(); len(p) != 1 || p[0].LocalAddress != "::1" {
		t.Errorf("Peers() = %+v, want the session from ::1", p)
	}
}
