package bgpe2e

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/lvs/bgp"
)

// Wire behaviour against BIRD: what the router actually negotiates and
// receives.

// TestBirdFourByteASN: a 4-byte local ASN (above 65535) reaches BIRD's AS
// path as itself, not as AS_TRANS (23456), with the default path and with
// a configured one.
func TestBirdFourByteASN(t *testing.T) {
	const asn = 4200000001
	port := FreePort(t)
	b := StartBird(t, BirdConfig{RouterID: "10.255.0.1", Address: "127.0.0.1", Port: port, ASN: routerASN,
		Peers: []BirdPeer{{Name: "lvs1", Address: "127.0.0.2", ASN: asn}, {Name: "lvs2", Address: "127.0.0.3", ASN: asn}}})
	for _, tc := range []struct {
		n      int
		proto  string
		path   []uint32
		wantAS string
	}{
		{2, "lvs1", nil, "4200000001"},
		{3, "lvs2", []uint32{asn, 4200000002}, "4200000001 4200000002"},
	} {
		cfg := director(tc.n, port, t)
		cfg.LocalASN, cfg.ASPath = asn, tc.path
		s := startSpeaker(t, cfg)
		if err := s.SetRoutes(context.Background(), []bgp.Route{{Prefix: vip4, MED: uint32(tc.n)}}); err != nil {
			t.Fatal(err)
		}
		var got BirdRoute
		Eventually(t, 30*time.Second, fmt.Sprintf("%s from %s", vip4, tc.proto), func() (bool, string) {
			rs, _ := b.Routes()
			for _, r := range rs[vip4.String()] {
				if r.Proto == tc.proto {
					got = r
					return true, ""
				}
			}
			return false, fmt.Sprint(rs)
		})
		if got.ASPath != tc.wantAS || got.MED != int64(tc.n) {
			t.Errorf("%s: BIRD got AS path %q MED %d, want %q MED %d", tc.proto, got.ASPath, got.MED, tc.wantAS, tc.n)
		}
		if out, _ := b.Birdc("show", "protocols", "all", tc.proto); !regexp.MustCompile(`Neighbor AS:\s+4200000001\b`).MatchString(out) {
			t.Errorf("%s: BIRD's neighbor AS is not 4200000001:\n%s", tc.proto, out)
		}
	}
}

var holdTimerRE = regexp.MustCompile(`Hold timer:\s+\S+/(\d+)`)

// TestBirdHoldTimeNegotiated: BIRD offers 90 s; the speaker's default of
// 30 s (not gobgp's 90 s) wins, being the smaller; a speaker configured
// with more than BIRD offers gets BIRD's.
func TestBirdHoldTimeNegotiated(t *testing.T) {
	port := FreePort(t)
	b := StartBird(t, BirdConfig{RouterID: "10.255.0.1", Address: "127.0.0.1", Port: port, ASN: routerASN, HoldTime: 90,
		Peers: []BirdPeer{{Name: "lvs1", Address: "127.0.0.2", ASN: directorASN}, {Name: "lvs2", Address: "127.0.0.3", ASN: directorASN}}})
	for _, tc := range []struct {
		n     int
		proto string
		hold  time.Duration
		want  string
	}{
		{2, "lvs1", 0, "30"}, // bgp-hold-time unset
		{3, "lvs2", 120 * time.Second, "90"},
	} {
		cfg := director(tc.n, port, t)
		cfg.HoldTime = tc.hold
		startSpeaker(t, cfg)
		Eventually(t, 30*time.Second, tc.proto+" established", func() (bool, string) { return b.Established(tc.proto), "" })
		out, err := b.Birdc("show", "protocols", "all", tc.proto)
		m := holdTimerRE.FindStringSubmatch(out)
		if err != nil || m == nil || m[1] != tc.want {
			t.Errorf("%s (bgp-hold-time %v): negotiated hold time %v, want %s s:\n%s", tc.proto, tc.hold, m, tc.want, out)
		}
	}
}

// TestBirdInboundSession: the router opens the session to the speaker's
// listener (bgp-local-ips:bgp-local-port) while the speaker's own
// connection attempts go to a closed port; the routes arrive all the same.
func TestBirdInboundSession(t *testing.T) {
	deadPort := FreePort(t) // nothing listens there
	cfg := director(2, deadPort, t)
	b := StartBird(t, BirdConfig{RouterID: "10.255.0.1", Address: "127.0.0.1", Port: FreePort(t), ASN: routerASN, Active: true,
		Peers: []BirdPeer{{Name: "lvs1", Address: "127.0.0.2", ASN: directorASN, Port: cfg.LocalPort}}})
	s := startSpeaker(t, cfg)
	if err := s.SetRoutes(context.Background(), []bgp.Route{{Prefix: vip4, MED: 4}}); err != nil {
		t.Fatal(err)
	}
	if r := waitBest(t, b, vip4, "lvs1", 4); r.NextHop != "10.0.0.2" {
		t.Errorf("route over the inbound session: %+v", r)
	}
	if l, ok := b.FindLog(regexp.MustCompile(`^<TRACE> lvs1: Incoming connection`)); ok {
		t.Errorf("the session came from the speaker, not from BIRD: %q", l.Text)
	}
	if l, ok := b.FindLog(regexp.MustCompile(`^<TRACE> lvs1: Connected$`)); !ok {
		t.Errorf("BIRD logged no outgoing connection (%q)", l.Text)
	}
	Eventually(t, 30*time.Second, "the speaker to report the session", func() (bool, string) {
		p := s.Peers()
		return len(p) == 1 && p[0].Established && p[0].LocalAddress == "127.0.0.2", fmt.Sprintf("%+v", p)
	})
}

// stallCommunities makes each UPDATE about 3.7 KB (900 communities), so
// that a hundred routes fill the socket to a StallPeer: the send buffer
// (about 165 KB here) and the peer's receive buffer.
func stallCommunities() []bgp.Community {
	cs := make([]bgp.Community, 900)
	for i := range cs {
		cs[i] = bgp.Community{ASN: 64600, Value: uint16(i + 1)}
	}
	return cs
}

// stallRoutes is n routes with distinct MEDs (one UPDATE each).
func stallRoutes(n int) []bgp.Route {
	rs := make([]bgp.Route, n)
	for i := range rs {
		rs[i] = bgp.Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 3, byte(i >> 8), byte(i)}), 32), MED: uint32(i)}
	}
	return rs
}

// TestStopTimeoutPeerNeverReads: a router that stops reading leaves the
// withdrawals unsent; Stop gives up when its context ends and says so,
// instead of hanging on the socket.
func TestStopTimeoutPeerNeverReads(t *testing.T) {
	peer := StartStallPeer(t, "127.0.0.1:0", routerASN)
	cfg := director(2, peer.Port(), t)
	cfg.Communities = stallCommunities()
	s := startSpeaker(t, cfg)
	if err := s.SetRoutes(context.Background(), stallRoutes(150)); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 30*time.Second, "the session to the stalled router", func() (bool, string) {
		p := s.Peers()
		return len(p) == 1 && p[0].Established, fmt.Sprintf("%+v", p)
	})
	const bound = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	done := make(chan error, 1)
	t0 := time.Now()
	go func() { done <- s.Stop(ctx) }()
	select {
	case err := <-done:
		t.Logf("Stop returned after %v: %v", time.Since(t0), err)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Stop = %v, want an error wrapping context.DeadlineExceeded", err)
		}
	case <-time.After(bound + 10*time.Second):
		t.Fatalf("Stop did not return within %v of its %v bound", 10*time.Second, bound)
	}
}
