package bgp

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// This file is the test rig: a second, in-process gobgp speaker that plays
// the router on 127.0.0.1, and helpers to read what it received.

const (
	testRouterASN = 65000
	testLocalASN  = 64600
	speakerAddr   = "127.0.0.2" // source address of the speaker under test
)

// freePort is testutil.FreePort as the number gobgp's configuration takes.
func freePort(t *testing.T) uint16 {
	p, err := strconv.Atoi(testutil.FreePort(t))
	if err != nil {
		t.Fatal(err)
	}
	return uint16(p)
}

// testRouter is a passive gobgp speaker listening on 127.0.0.1:port.
type testRouter struct {
	s    *server.BgpServer
	addr string
	port uint16
	mu   sync.Mutex
	evs  []string // ordered "withdraw PREFIX", "update PREFIX", "down"
}

func startRouter(t *testing.T, asn uint32, port uint16) *testRouter {
	t.Helper()
	return startRouterAt(t, "127.0.0.1", asn, port)
}

// startRouterAt is a router on another loopback address (several routers
// share one port, as a director's peers do).
func startRouterAt(t *testing.T, addr string, asn uint32, port uint16) *testRouter {
	t.Helper()
	r := &testRouter{s: server.NewBgpServer(server.LoggerOption(newSlogAdapter(slog.New(slog.DiscardHandler)))), port: port}
	go r.s.Serve()
	ctx := context.Background()
	if err := r.s.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn: asn, RouterId: "10.255.0." + strconv.Itoa(int(netip.MustParseAddr(addr).As4()[3])), ListenPort: int32(port), ListenAddresses: []string{addr},
	}}); err != nil {
		t.Fatalf("start test router: %v", err)
	}
	// One watcher for both kinds of events keeps their order: it shows
	// whether withdrawals arrived before the session closed.
	err := r.s.WatchEvent(ctx, &api.WatchEventRequest{
		Peer:  &api.WatchEventRequest_Peer{},
		Table: &api.WatchEventRequest_Table{Filters: []*api.WatchEventRequest_Table_Filter{{Type: api.WatchEventRequest_Table_Filter_ADJIN}}},
	}, r.onEvent)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.s.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: speakerAddr, PeerAsn: testLocalASN},
		Transport: &api.Transport{PassiveMode: true},
		AfiSafis: []*api.AfiSafi{
			{Config: &api.AfiSafiConfig{Family: familyV4, Enabled: true}},
			{Config: &api.AfiSafiConfig{Family: familyV6, Enabled: true}},
		},
	}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	return r
}

func (r *testRouter) stop() { r.s.StopBgp(context.Background(), &api.StopBgpRequest{}) }

func (r *testRouter) onEvent(ev *api.WatchEventResponse) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pe := ev.GetPeer(); pe != nil {
		switch st := pe.GetPeer().GetState().GetSessionState(); {
		case st == api.PeerState_ESTABLISHED:
			r.evs = append(r.evs, "up")
		case st == api.PeerState_IDLE && slices.Contains(r.evs, "up"):
			r.evs = append(r.evs, "down")
		}
		return
	}
	for _, p := range ev.GetTable().GetPaths() {
		if p.GetIsWithdraw() {
			r.evs = append(r.evs, "withdraw "+prefixOf(p))
		} else {
			r.evs = append(r.evs, "update "+prefixOf(p))
		}
	}
}

func (r *testRouter) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.evs)
}

func prefixOf(p *api.Path) string {
	m, err := p.GetNlri().UnmarshalNew()
	if err != nil {
		return "?"
	}
	if n, ok := m.(*api.IPAddressPrefix); ok {
		return fmt.Sprintf("%s/%d", n.GetPrefix(), n.GetPrefixLen())
	}
	return "?"
}

// attrs is a received path, decoded for assertions.
type attrs struct {
	Origin      uint32
	ASPath      []uint32
	NextHop     string
	MED         uint32
	Communities []uint32
}

func decode(p *api.Path) attrs {
	var a attrs
	for _, raw := range p.GetPattrs() {
		m, err := raw.UnmarshalNew()
		if err != nil {
			continue
		}
		switch v := m.(type) {
		case *api.OriginAttribute:
			a.Origin = v.GetOrigin()
		case *api.AsPathAttribute:
			for _, seg := range v.GetSegments() {
				a.ASPath = append(a.ASPath, seg.GetNumbers()...)
			}
		case *api.NextHopAttribute:
			a.NextHop = v.GetNextHop()
		case *api.MpReachNLRIAttribute:
			if len(v.GetNextHops()) > 0 {
				a.NextHop = v.GetNextHops()[0]
			}
		case *api.MultiExitDiscAttribute:
			a.MED = v.GetMed()
		case *api.CommunitiesAttribute:
			a.Communities = v.GetCommunities()
		}
	}
	return a
}

func (a attrs) String() string {
	return fmt.Sprintf("origin=%d as_path=%v nh=%s med=%d comm=%v", a.Origin, a.ASPath, a.NextHop, a.MED, a.Communities)
}

// received is the router's Adj-RIB-In from the speaker, both families.
func (r *testRouter) received() map[string]attrs {
	out := map[string]attrs{}
	for _, f := range []*api.Family{familyV4, familyV6} {
		_ = r.s.ListPath(context.Background(), &api.ListPathRequest{TableType: api.TableType_ADJ_IN, Name: speakerAddr, Family: f},
			func(d *api.Destination) {
				for _, p := range d.GetPaths() {
					out[d.GetPrefix()] = decode(p)
				}
			})
	}
	return out
}

func (r *testRouter) established() bool {
	up := false
	_ = r.s.ListPeer(context.Background(), &api.ListPeerRequest{Address: speakerAddr}, func(p *api.Peer) {
		up = p.GetState().GetSessionState() == api.PeerState_ESTABLISHED
	})
	return up
}

// eventually polls cond every 50 ms until it holds or 30 s pass.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got string
	for i := 0; i < 600 && time.Now().Before(deadline); i++ {
		var ok bool
		if ok, got = cond(); ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, got)
}

// waitEstablished waits until the speaker's own session gauge for peer is 1.
// Routes can reach the router before the speaker's watcher has seen its FSM
// change, so a test that checks the gauge right after waitReceived races.
func waitEstablished(t *testing.T, reg *prometheus.Registry, peer string) {
	t.Helper()
	eventually(t, "speaker to report the session to "+peer+" established", func() (bool, string) {
		v := gauge(t, reg, "pybal_bgp_session_established", "peer", peer)
		return v == 1, fmt.Sprint(v)
	})
}

func testConfig(routerPort uint16, t *testing.T) Config {
	return Config{
		Enabled:      true,
		LocalASN:     testLocalASN,
		Peers:        []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		PeerPort:     routerPort,
		NextHopV4:    netip.MustParseAddr("10.0.0.10"),
		NextHopV6:    netip.MustParseAddr("2001:db8::10"),
		LocalIPs:     []netip.Addr{netip.MustParseAddr(speakerAddr)},
		LocalPort:    freePort(t),
		ConnectRetry: time.Second,
	}
}

func newSpeaker(t *testing.T, cfg Config) (*Server, *prometheus.Registry, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	reg := prometheus.NewRegistry()
	s, err := New(cfg, slog.New(slog.NewTextHandler(logs, nil)), reg)
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
		if t.Failed() {
			t.Logf("speaker log:\n%s", logs)
		}
	})
	return s, reg, logs
}

// gauge reads one gauge or counter sample from reg; labels are name=value pairs.
func gauge(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matchLabels(m, labels) {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

func matchLabels(m *dto.Metric, labels []string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for i := 0; i+1 < len(labels); i += 2 {
		if have[labels[i]] != labels[i+1] {
			return false
		}
	}
	return true
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func contains(haystack, needle string) bool { return strings.Contains(haystack, needle) }

type apbAny = anypb.Any

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
