package bgp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// TestAnnounceWithdrawStop runs the speaker against an in-process gobgp
// router over eBGP (peer ASN learned from the OPEN, as PyBal does) and
// follows a route set through announce, MED change, withdraw and Stop.
func TestAnnounceWithdrawStop(t *testing.T) {
	router := startRouter(t, testRouterASN, freePort(t))
	cfg := testConfig(router.port, t)
	cfg.ASPath = []uint32{testLocalASN, 64601}
	cfg.Communities = []Community{{ASN: 64600, Value: 100}, {ASN: 65535, Value: 1}}
	s, reg, logs := newSpeaker(t, cfg)

	routes := []Route{
		{Prefix: mustPrefix("10.2.2.1/32"), MED: 0},
		{Prefix: mustPrefix("10.2.2.2/32"), MED: 50},
		{Prefix: mustPrefix("2001:db8:2::1/128"), MED: 7},
	}
	if err := s.SetRoutes(context.Background(), routes); err != nil {
		t.Fatal(err)
	}
	comm := []uint32{64600<<16 | 100, 65535<<16 | 1}
	want := map[string]attrs{
		"10.2.2.1/32":       {Origin: 0, ASPath: []uint32{64600, 64601}, NextHop: "10.0.0.10", MED: 0, Communities: comm},
		"10.2.2.2/32":       {Origin: 0, ASPath: []uint32{64600, 64601}, NextHop: "10.0.0.10", MED: 50, Communities: comm},
		"2001:db8:2::1/128": {Origin: 0, ASPath: []uint32{64600, 64601}, NextHop: "2001:db8::10", MED: 7, Communities: comm},
	}
	waitReceived(t, router, want)

	// The router can hold the routes a moment before the speaker's own FSM
	// watcher reports the session established, so wait for it.
	waitEstablished(t, reg, "127.0.0.1")
	if got := gauge(t, reg, "pybal_bgp_session_established", "peer", "127.0.0.1", "local_asn", "64600"); got != 1 {
		t.Errorf("pybal_bgp_session_established = %v, want 1", got)
	}
	if got := gauge(t, reg, "lvsd_bgp_announced_prefixes", "family", "ipv4"); got != 2 {
		t.Errorf("announced ipv4 = %v, want 2", got)
	}
	if got := gauge(t, reg, "pybal_bgp_enabled"); got != 1 {
		t.Errorf("pybal_bgp_enabled = %v, want 1", got)
	}
	peers := s.Peers()
	if len(peers) != 1 || !peers[0].Established || peers[0].PeerASN != testRouterASN || peers[0].LocalAddress != speakerAddr || peers[0].Advertised != 3 {
		t.Errorf("Peers() = %+v", peers)
	}
	if _, err := json.Marshal(s.Status()); err != nil {
		t.Errorf("Status not JSON-able: %v", err)
	}

	// The same set again changes nothing.
	announces := gauge(t, reg, "lvsd_bgp_route_changes_total", "action", "announce")
	if err := s.SetRoutes(context.Background(), slices.Clone(routes)); err != nil {
		t.Fatal(err)
	}
	if got := gauge(t, reg, "lvsd_bgp_route_changes_total", "action", "announce"); got != announces || announces != 3 {
		t.Errorf("announce counter %v after repeating SetRoutes, want it to stay 3 (was %v)", got, announces)
	}

	// Drop one route, change another's MED: the router sees exactly that.
	routes = []Route{{Prefix: mustPrefix("10.2.2.1/32"), MED: 100}, routes[2]}
	if err := s.SetRoutes(context.Background(), routes); err != nil {
		t.Fatal(err)
	}
	delete(want, "10.2.2.2/32")
	a := want["10.2.2.1/32"]
	a.MED = 100
	want["10.2.2.1/32"] = a
	waitReceived(t, router, want)
	if got := s.Routes(); !slices.Equal(got, sortRoutes(routes)) {
		t.Errorf("Routes() = %v, want %v", got, routes)
	}
	if !slices.Contains(router.events(), "withdraw 10.2.2.2/32") {
		t.Errorf("router saw no withdraw for 10.2.2.2/32: %v", router.events())
	}

	// Stop: the router must hear both withdrawals before the session ends.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	eventually(t, "session down at the router", func() (bool, string) {
		return slices.Contains(router.events(), "down"), fmt.Sprint(router.events())
	})
	evs := router.events()
	down := slices.Index(evs, "down")
	for _, p := range []string{"10.2.2.1/32", "2001:db8:2::1/128"} {
		if i := slices.Index(evs, "withdraw "+p); i < 0 || i > down {
			t.Errorf("withdraw of %s not received before the session closed: %v", p, evs)
		}
	}
	if got := gauge(t, reg, "pybal_bgp_session_established", "peer", "127.0.0.1"); got != 0 {
		t.Errorf("pybal_bgp_session_established after Stop = %v", got)
	}
	for _, line := range []string{"BGP announce", "BGP re-announce", "BGP withdraw", "BGP session state change", "BGP withdrawals sent", "sessions closed with Cease"} {
		if !contains(logs.String(), line) {
			t.Errorf("log lacks %q", line)
		}
	}
	if err := s.SetRoutes(context.Background(), routes); err == nil {
		t.Error("SetRoutes after Stop succeeded")
	}
}

func waitReceived(t *testing.T, router *testRouter, want map[string]attrs) {
	t.Helper()
	eventually(t, fmt.Sprintf("router to hold %v", want), func() (bool, string) {
		got := router.received()
		if len(got) != len(want) {
			return false, fmt.Sprint(got)
		}
		for p, w := range want {
			if got[p].String() != w.String() {
				return false, fmt.Sprintf("%s: got %v want %v", p, got[p], w)
			}
		}
		return true, ""
	})
}

// TestIBGPAndLearnedRoutesIgnored: with an iBGP router the default AS path
// is empty on the wire, and routes the router sends never enter the RIB.
func TestIBGPAndLearnedRoutesIgnored(t *testing.T) {
	router := startRouter(t, testLocalASN, freePort(t))
	cfg := testConfig(router.port, t)
	s, _, _ := newSpeaker(t, cfg)
	if err := s.SetRoutes(context.Background(), []Route{{Prefix: mustPrefix("10.9.9.9/32"), MED: 3}}); err != nil {
		t.Fatal(err)
	}
	waitReceived(t, router, map[string]attrs{"10.9.9.9/32": {NextHop: "10.0.0.10", MED: 3}})

	// The router announces a prefix of its own.
	nlri := mustAny(t, &api.IPAddressPrefix{Prefix: "192.0.2.0", PrefixLen: 24})
	if _, err := router.s.AddPath(context.Background(), &api.AddPathRequest{Path: &api.Path{
		Family: familyV4, Nlri: nlri,
		Pattrs: []*apbAny{mustAny(t, &api.OriginAttribute{}), mustAny(t, &api.NextHopAttribute{NextHop: "127.0.0.1"})},
	}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "speaker to receive 192.0.2.0/24", func() (bool, string) {
		n := 0
		_ = s.bgp.ListPath(context.Background(), &api.ListPathRequest{TableType: api.TableType_ADJ_IN, Name: "127.0.0.1", Family: familyV4},
			func(d *api.Destination) { n++ })
		return n == 1, fmt.Sprint(n, " paths in adj-in")
	})
	var global []string
	_ = s.bgp.ListPath(context.Background(), &api.ListPathRequest{TableType: api.TableType_GLOBAL, Family: familyV4},
		func(d *api.Destination) { global = append(global, d.GetPrefix()) })
	if !slices.Equal(global, []string{"10.9.9.9/32"}) {
		t.Errorf("speaker's RIB = %v, want only its own route", global)
	}
}

// TestReannounceAfterRouterRestart: the router goes away and comes back on
// the same port; the session re-establishes and the routes return.
func TestReannounceAfterRouterRestart(t *testing.T) {
	port := freePort(t)
	router := startRouter(t, testRouterASN, port)
	s, reg, _ := newSpeaker(t, testConfig(port, t))
	want := map[string]attrs{"10.3.3.3/32": {ASPath: []uint32{testLocalASN}, NextHop: "10.0.0.10", MED: 1}}
	if err := s.SetRoutes(context.Background(), []Route{{Prefix: mustPrefix("10.3.3.3/32"), MED: 1}}); err != nil {
		t.Fatal(err)
	}
	waitReceived(t, router, want)
	router.stop()
	eventually(t, "speaker to notice", func() (bool, string) {
		v := gauge(t, reg, "pybal_bgp_session_established", "peer", "127.0.0.1")
		return v == 0, fmt.Sprint(v)
	})
	router2 := startRouter(t, testRouterASN, port)
	waitReceived(t, router2, want)
	if !router2.established() {
		t.Error("router reports the session not established")
	}
}

func TestSetRoutesRejectsBadRoutes(t *testing.T) {
	router := startRouter(t, testRouterASN, freePort(t))
	cfg := testConfig(router.port, t)
	cfg.NextHopV6 = netip.Addr{}
	s, _, _ := newSpeaker(t, cfg)
	good := []Route{{Prefix: mustPrefix("10.4.4.4/32")}}
	if err := s.SetRoutes(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]Route{
		{{Prefix: mustPrefix("10.4.4.0/24")}},
		{{Prefix: mustPrefix("2001:db8::1/128")}}, // no bgp-nexthop-ipv6
		{{Prefix: mustPrefix("10.4.4.5/32")}, {Prefix: mustPrefix("10.4.4.5/32"), MED: 1}},
	} {
		if err := s.SetRoutes(context.Background(), bad); err == nil {
			t.Errorf("SetRoutes(%v) succeeded", bad)
		}
	}
	if got := s.Routes(); !slices.Equal(got, good) {
		t.Errorf("a rejected SetRoutes changed the routes: %v", got)
	}
}

// TestRoutesBeforeStart: routes set before Start are announced by Start.
func TestRoutesBeforeStart(t *testing.T) {
	router := startRouter(t, testRouterASN, freePort(t))
	s, err := New(testConfig(router.port, t), discardLogger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetRoutes(context.Background(), []Route{{Prefix: mustPrefix("10.5.5.5/32"), MED: 9}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	waitReceived(t, router, map[string]attrs{"10.5.5.5/32": {ASPath: []uint32{testLocalASN}, NextHop: "10.0.0.10", MED: 9}})
}

// TestPeerASNEnforced: with bgp-peer-asn set, a router with another ASN is
// refused with a NOTIFICATION (Bad Peer AS) and never established.
func TestPeerASNEnforced(t *testing.T) {
	router := startRouter(t, testRouterASN, freePort(t))
	cfg := testConfig(router.port, t)
	cfg.PeerASN = testRouterASN + 1
	s, _, logs := newSpeaker(t, cfg)
	eventually(t, "the router to receive a NOTIFICATION", func() (bool, string) {
		var n uint64
		_ = router.s.ListPeer(context.Background(), &api.ListPeerRequest{Address: speakerAddr}, func(p *api.Peer) {
			n = p.GetState().GetMessages().GetReceived().GetNotification()
		})
		return n > 0, fmt.Sprint(n, " notifications")
	})
	if p := s.Peers(); len(p) != 1 || p[0].Established {
		t.Errorf("Peers() = %+v", p)
	}
	if contains(logs.String(), "state=established") {
		t.Error("the session was established with a router of the wrong ASN")
	}
}

// TestTwoRouters: every peer in bgp-peer-address gets the routes, and Stop
// waits for the withdrawals to each of them.
func TestTwoRouters(t *testing.T) {
	port := freePort(t)
	r1 := startRouterAt(t, "127.0.0.1", testRouterASN, port)
	r2 := startRouterAt(t, "127.0.0.4", testRouterASN, port)
	cfg := testConfig(port, t)
	cfg.Peers = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.4")}
	s, reg, _ := newSpeaker(t, cfg)
	if err := s.SetRoutes(context.Background(), []Route{{Prefix: mustPrefix("10.6.6.6/32"), MED: 6}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]attrs{"10.6.6.6/32": {ASPath: []uint32{testLocalASN}, NextHop: "10.0.0.10", MED: 6}}
	waitReceived(t, r1, want)
	waitReceived(t, r2, want)
	for _, p := range []string{"127.0.0.1", "127.0.0.4"} {
		waitEstablished(t, reg, p)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*testRouter{r1, r2} {
		eventually(t, "session down", func() (bool, string) {
			return slices.Contains(r.events(), "down"), fmt.Sprint(r.events())
		})
		evs := r.events()
		if w := slices.Index(evs, "withdraw 10.6.6.6/32"); w < 0 || w > slices.Index(evs, "down") {
			t.Errorf("router %s: withdraw not before the session closed: %v", r.addr, evs)
		}
	}
}

// TestASPathOnTheWire: what a router receives for bgp-as-path, on eBGP
// (gobgp prepends our ASN) and iBGP (it does not; lvsd drops one leading
// bgp-local-asn so the router does not see its own ASN). A path that does
// not start with bgp-local-asn gets it prepended on eBGP.
func TestASPathOnTheWire(t *testing.T) {
	for _, tc := range []struct {
		name      string
		routerASN uint32
		path      []uint32
		want      []uint32
	}{
		{"ebgp starting with local asn", testRouterASN, []uint32{testLocalASN, 64601}, []uint32{testLocalASN, 64601}},
		{"ebgp not starting with local asn", testRouterASN, []uint32{64601}, []uint32{testLocalASN, 64601}},
		{"ibgp starting with local asn", testLocalASN, []uint32{testLocalASN, 64601}, []uint32{64601}},
		{"ibgp not starting with local asn", testLocalASN, []uint32{64601}, []uint32{64601}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			router := startRouter(t, tc.routerASN, freePort(t))
			cfg := testConfig(router.port, t)
			cfg.ASPath = tc.path
			s, _, _ := newSpeaker(t, cfg)
			if err := s.SetRoutes(context.Background(), []Route{{Prefix: mustPrefix("10.1.1.1/32")}}); err != nil {
				t.Fatal(err)
			}
			waitReceived(t, router, map[string]attrs{"10.1.1.1/32": {ASPath: tc.want, NextHop: "10.0.0.10"}})
		})
	}
}
