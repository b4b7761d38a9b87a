package bgpe2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	routerASN   = 65000
	directorASN = 64600
)

// director is one speaker's configuration: source address 127.0.0.<n>,
// next hops 10.0.0.<n> and 2001:db8::<n>.
func director(n int, birdPort uint16, t testing.TB) bgp.Config {
	return bgp.Config{
		Enabled:      true,
		LocalASN:     directorASN,
		Peers:        []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		PeerPort:     birdPort,
		NextHopV4:    netip.MustParseAddr(fmt.Sprintf("10.0.0.%d", n)),
		NextHopV6:    netip.MustParseAddr(fmt.Sprintf("2001:db8::%d", n)),
		LocalIPs:     []netip.Addr{netip.MustParseAddr(fmt.Sprintf("127.0.0.%d", n))},
		LocalPort:    FreePort(t),
		ConnectRetry: time.Second,
		Communities:  []bgp.Community{{ASN: 64600, Value: uint16(n)}},
	}
}

func startSpeaker(t testing.TB, cfg bgp.Config) *bgp.Server {
	t.Helper()
	s, err := bgp.New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return s
}

var (
	vip4 = netip.MustParsePrefix("10.2.2.1/32")
	vip6 = netip.MustParsePrefix("2001:db8:2::1/128")
)

func twoDirectors(t testing.TB) (*Bird, uint16) {
	port := FreePort(t)
	b := StartBird(t, BirdConfig{RouterID: "10.255.0.1", Address: "127.0.0.1", Port: port, ASN: routerASN,
		Peers: []BirdPeer{{Name: "lvs1", Address: "127.0.0.2", ASN: directorASN}, {Name: "lvs2", Address: "127.0.0.3", ASN: directorASN}}})
	return b, port
}

// waitBest waits until BIRD's best route for prefix comes from proto
// (a BIRD protocol name) with the given MED.
func waitBest(t testing.TB, b *Bird, prefix netip.Prefix, proto string, med int64) BirdRoute {
	t.Helper()
	var best BirdRoute
	Eventually(t, 30*time.Second, fmt.Sprintf("best route for %s from %s (MED %d)", prefix, proto, med), func() (bool, string) {
		var ok bool
		best, ok = b.Best(prefix.String())
		return ok && best.Proto == proto && best.MED == med, fmt.Sprintf("%+v", best)
	})
	return best
}

func waitGone(t testing.TB, b *Bird, prefix netip.Prefix, proto string) {
	t.Helper()
	Eventually(t, 30*time.Second, fmt.Sprintf("%s from %s to disappear", prefix, proto), func() (bool, string) {
		rs, err := b.Routes()
		if err != nil {
			return false, err.Error()
		}
		for _, r := range rs[prefix.String()] {
			if r.Proto == proto {
				return false, fmt.Sprintf("%+v", r)
			}
		}
		return true, ""
	})
}

// TestBirdFailover is the production layout: a primary (MED 0) and a
// backup (MED 100) announce the same VIPs; BIRD prefers the primary, and
// once the primary stops, the backup.
func TestBirdFailover(t *testing.T) {
	b, port := twoDirectors(t)
	primary := startSpeaker(t, director(2, port, t))
	backup := startSpeaker(t, director(3, port, t))
	ctx := context.Background()
	if err := primary.SetRoutes(ctx, []bgp.Route{{Prefix: vip4, MED: 0}, {Prefix: vip6, MED: 0}}); err != nil {
		t.Fatal(err)
	}
	if err := backup.SetRoutes(ctx, []bgp.Route{{Prefix: vip4, MED: 100}, {Prefix: vip6, MED: 100}}); err != nil {
		t.Fatal(err)
	}
	// Both directors' routes arrive, with every attribute.
	for _, tc := range []struct {
		prefix  netip.Prefix
		proto   string
		nextHop string
		med     int64
		comm    string
	}{
		{vip4, "lvs1", "10.0.0.2", 0, "(64600,2)"},
		{vip6, "lvs1", "2001:db8::2", 0, "(64600,2)"},
		{vip4, "lvs2", "10.0.0.3", 100, "(64600,3)"},
		{vip6, "lvs2", "2001:db8::3", 100, "(64600,3)"},
	} {
		var got BirdRoute
		Eventually(t, 30*time.Second, fmt.Sprintf("%s from %s", tc.prefix, tc.proto), func() (bool, string) {
			rs, _ := b.Routes()
			for _, r := range rs[tc.prefix.String()] {
				if r.Proto == tc.proto {
					got = r
					return true, ""
				}
			}
			return false, fmt.Sprint(rs)
		})
		want := BirdRoute{Prefix: tc.prefix.String(), Kind: "unicast", Proto: tc.proto, Best: got.Best, Origin: "IGP",
			ASPath: "64600", NextHop: tc.nextHop, MED: tc.med, Communities: tc.comm}
		if got != want {
			t.Errorf("route %s from %s:\n got %+v\nwant %+v", tc.prefix, tc.proto, got, want)
		}
	}
	waitBest(t, b, vip4, "lvs1", 0)
	waitBest(t, b, vip6, "lvs1", 0)

	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := primary.Stop(stopCtx); err != nil {
		t.Fatalf("primary Stop: %v", err)
	}
	waitBest(t, b, vip4, "lvs2", 100)
	waitBest(t, b, vip6, "lvs2", 100)
	waitGone(t, b, vip4, "lvs1")

	// BIRD heard the withdrawals before the Cease, not just the session
	// end (which removes the routes too, but after the close in the log).
	Eventually(t, 10*time.Second, "BIRD to log the Cease from lvs1", func() (bool, string) {
		l, ok := b.FindLog(regexp.MustCompile(`^<RMT> lvs1: Received: `))
		return ok, l.Text
	})
	for _, p := range []netip.Prefix{vip4, vip6} {
		if ok, desc := b.WithdrawnBeforeClose("lvs1", p.String()); !ok {
			t.Errorf("BIRD saw no withdraw of %s from lvs1 before the session closed: %s", p, desc)
		}
	}
	if b.Established("lvs1") {
		t.Error("BIRD's session to the stopped primary is still established")
	}
}

// TestBirdWithdrawAndReturn: a VIP dropped from SetRoutes leaves BIRD while
// the session stays up, and comes back when it is set again.
func TestBirdWithdrawAndReturn(t *testing.T) {
	b, port := twoDirectors(t)
	s := startSpeaker(t, director(2, port, t))
	ctx := context.Background()
	other := netip.MustParsePrefix("10.2.2.9/32")
	all := []bgp.Route{{Prefix: vip4}, {Prefix: vip6}, {Prefix: other, MED: 5}}
	if err := s.SetRoutes(ctx, all); err != nil {
		t.Fatal(err)
	}
	waitBest(t, b, vip4, "lvs1", 0)
	waitBest(t, b, vip6, "lvs1", 0)
	waitBest(t, b, other, "lvs1", 5)

	if err := s.SetRoutes(ctx, []bgp.Route{{Prefix: other, MED: 5}}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, b, vip4, "lvs1")
	waitGone(t, b, vip6, "lvs1")
	if _, ok := b.Best(other.String()); !ok {
		t.Errorf("%s went away with the others", other)
	}
	if !b.Established("lvs1") {
		t.Error("session dropped on a withdraw")
	}

	if err := s.SetRoutes(ctx, append(all[:2:2], bgp.Route{Prefix: other, MED: 50})); err != nil {
		t.Fatal(err)
	}
	waitBest(t, b, vip4, "lvs1", 0)
	waitBest(t, b, vip6, "lvs1", 0)
	waitBest(t, b, other, "lvs1", 50) // MED change re-announced
}

// TestBirdASPathPrepend: the older failover style, the backup prepending
// its ASN at equal MED; BIRD picks the shorter path.
func TestBirdASPathPrepend(t *testing.T) {
	b, port := twoDirectors(t)
	primary := startSpeaker(t, director(2, port, t))
	cfg := director(3, port, t)
	cfg.ASPath = []uint32{directorASN, directorASN, directorASN}
	backup := startSpeaker(t, cfg)
	ctx := context.Background()
	for _, s := range []*bgp.Server{backup, primary} {
		if err := s.SetRoutes(ctx, []bgp.Route{{Prefix: vip4}}); err != nil {
			t.Fatal(err)
		}
	}
	Eventually(t, 30*time.Second, "both routes, the primary's best", func() (bool, string) {
		rs, _ := b.Routes()
		r := rs[vip4.String()]
		return len(r) == 2 && r[0].Proto == "lvs1" && r[0].Best && r[1].ASPath == "64600 64600 64600", fmt.Sprintf("%+v", r)
	})
}

// TestBirdRestart: the router restarts; the speaker reconnects on its own
// and announces its routes again.
func TestBirdRestart(t *testing.T) {
	b, port := twoDirectors(t)
	s := startSpeaker(t, director(2, port, t))
	if err := s.SetRoutes(context.Background(), []bgp.Route{{Prefix: vip4, MED: 7}}); err != nil {
		t.Fatal(err)
	}
	waitBest(t, b, vip4, "lvs1", 7)
	b.Stop()
	Eventually(t, 30*time.Second, "the speaker to see the session down", func() (bool, string) {
		p := s.Peers()
		return len(p) == 1 && !p[0].Established, fmt.Sprintf("%+v", p)
	})
	b2 := StartBird(t, b.Config)
	waitBest(t, b2, vip4, "lvs1", 7)
	// BIRD can hold the route before the speaker's watcher reports the FSM change.
	Eventually(t, 30*time.Second, "the speaker to see the session up again", func() (bool, string) {
		p := s.Peers()
		return len(p) == 1 && p[0].Established && p[0].PeerASN == routerASN, fmt.Sprintf("%+v", p)
	})
}
