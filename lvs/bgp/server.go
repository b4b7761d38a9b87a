package bgp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
	"github.com/prometheus/client_golang/prometheus"
)

// importPolicy accepts only our own (locally originated) paths into the
// RIB: routes learned from routers are ignored, and so never re-advertised
// from one router to another.
const importPolicy = "lvsd-local-only"

// Server is the Announcer backed by an embedded gobgp speaker (no gRPC).
type Server struct {
	cfg      Config
	log      *slog.Logger
	baseLog  *slog.Logger // for gobgp's own lines, tagged component=gobgp
	m        *metrics
	localASN string // metric label

	// mu serialises Start, SetRoutes and Stop; it guards the fields below.
	mu        sync.Mutex
	bgp       *server.BgpServer
	running   bool
	stopped   bool
	pending   []Route // routes set before Start
	announced map[netip.Prefix]announced
	cancel    context.CancelFunc // ends the peer-event watch

	stopping  atomic.Bool // session-down lines during Stop are expected, not warnings
	peerMu    sync.Mutex
	peerState map[string]api.PeerState_SessionState
}

// announced is one path we added, with what is needed to withdraw exactly it.
type announced struct {
	route Route
	uuid  []byte
	path  *api.Path
}

var _ Announcer = (*Server)(nil)

// New checks cfg and registers the metrics; Start opens the sessions.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bgp config: %w", err)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:       cfg,
		log:       log.With("component", "bgp"),
		baseLog:   log,
		m:         m,
		localASN:  strconv.FormatUint(uint64(cfg.LocalASN), 10),
		announced: map[netip.Prefix]announced{},
		peerState: map[string]api.PeerState_SessionState{},
	}
	for _, p := range cfg.Peers {
		m.established.WithLabelValues(s.localASN, p.Unmap().String()).Set(0)
	}
	return s, nil
}

// Config is the effective configuration, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Start starts the speaker and its sessions, then announces the routes
// given to SetRoutes before Start.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running || s.stopped {
		return errors.New("bgp: Start called twice")
	}
	c := s.cfg
	b := server.NewBgpServer(server.LoggerOption(newSlogAdapter(s.baseLog)))
	// gobgp v3's Serve loop has no exit: one goroutine stays behind per
	// stopped speaker (one per lvsd process).
	go b.Serve()
	listen := make([]string, len(c.LocalIPs))
	for i, a := range c.LocalIPs {
		listen[i] = a.Unmap().String()
	}
	if err := b.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn:             c.LocalASN,
		RouterId:        c.RouterID.Unmap().String(),
		ListenPort:      int32(c.LocalPort),
		ListenAddresses: listen,
	}}); err != nil {
		return fmt.Errorf("bgp: start speaker (asn %d, router id %s, port %d): %w", c.LocalASN, c.RouterID, c.LocalPort, err)
	}
	if err := setImportPolicy(ctx, b); err != nil {
		b.Stop()
		return err
	}
	wctx, cancel := context.WithCancel(context.Background())
	if err := b.WatchEvent(wctx, &api.WatchEventRequest{Peer: &api.WatchEventRequest_Peer{}}, s.onEvent); err != nil {
		cancel()
		b.Stop()
		return fmt.Errorf("bgp: watch peers: %w", err)
	}
	for _, p := range c.Peers {
		if err := b.AddPeer(ctx, &api.AddPeerRequest{Peer: c.apiPeer(p)}); err != nil {
			cancel()
			b.Stop()
			return fmt.Errorf("bgp: add peer %s: %w", p, err)
		}
	}
	s.bgp, s.cancel, s.running = b, cancel, true
	s.m.enabled.Set(1)
	s.log.Info("BGP speaker started", "local_asn", c.LocalASN, "router_id", c.RouterID, "listen_port", c.LocalPort,
		"listen", listen, "peers", c.Peers, "peer_port", c.PeerPort, "hold_time", c.HoldTime)
	pending := s.pending
	s.pending = nil
	return s.apply(ctx, pending)
}

func setImportPolicy(ctx context.Context, b *server.BgpServer) error {
	if err := b.AddPolicy(ctx, &api.AddPolicyRequest{Policy: &api.Policy{
		Name: importPolicy,
		Statements: []*api.Statement{{
			Name:       importPolicy + "-accept",
			Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_LOCAL},
			Actions:    &api.Actions{RouteAction: api.RouteAction_ACCEPT},
		}},
	}}); err != nil {
		return fmt.Errorf("bgp: add import policy: %w", err)
	}
	if err := b.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
		Name:          "global",
		Direction:     api.PolicyDirection_IMPORT,
		Policies:      []*api.Policy{{Name: importPolicy}},
		DefaultAction: api.RouteAction_REJECT,
	}}); err != nil {
		return fmt.Errorf("bgp: assign import policy: %w", err)
	}
	return nil
}

// apiPeer is one neighbor: sessions from the bgp-local-ips address of the
// peer's family, both directions allowed (PyBal also listened), short
// retry timers so a restarted router gets its routes back quickly.
func (c Config) apiPeer(p netip.Addr) *api.Peer {
	p = p.Unmap()
	hold := uint64(c.HoldTime.Seconds())
	t := &api.Transport{RemotePort: uint32(c.PeerPort)}
	if la := c.localAddrFor(p); la.IsValid() {
		t.LocalAddress = la.String()
	}
	var fams []*api.AfiSafi
	if c.NextHopV4.IsValid() {
		fams = append(fams, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: familyV4, Enabled: true}})
	}
	if c.NextHopV6.IsValid() {
		fams = append(fams, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: familyV6, Enabled: true}})
	}
	return &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: p.String(), PeerAsn: c.PeerASN},
		Transport: t,
		Timers: &api.Timers{Config: &api.TimersConfig{
			ConnectRetry:           uint64(c.ConnectRetry.Seconds()),
			HoldTime:               hold,
			KeepaliveInterval:      max(hold/3, 1),
			IdleHoldTimeAfterReset: 1,
		}},
		AfiSafis: fams,
		// PyBal used the OS default TTL for every session; gobgp would use
		// TTL 1 on eBGP with a configured peer ASN.
		EbgpMultihop: &api.EbgpMultihop{Enabled: true, MultihopTtl: 64},
	}
}

// Stop withdraws every route, waits (bounded by ctx) until each established
// peer has been sent its withdrawals, then closes the sessions with a Cease.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		s.stopped = true
		return nil
	}
	s.running, s.stopped = false, true
	s.stopping.Store(true)
	var errs []error
	watch, err := s.sentSnapshot(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	n, npeers := len(s.announced), len(watch)
	for _, r := range s.sortedAnnounced() {
		if err := s.withdraw(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.waitSent(ctx, watch); err != nil {
		errs = append(errs, err)
	} else {
		s.log.Info("BGP withdrawals sent", "routes", n, "peers", npeers)
	}
	done := make(chan struct{})
	go func() {
		s.bgp.StopBgp(context.Background(), &api.StopBgpRequest{})
		close(done)
	}()
	select {
	case <-done:
		s.log.Info("BGP speaker stopped: sessions closed with Cease")
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("bgp: closing sessions: %w", ctx.Err()))
	}
	s.cancel()
	s.m.enabled.Set(0)
	for _, p := range s.cfg.Peers {
		s.m.established.WithLabelValues(s.localASN, p.Unmap().String()).Set(0)
	}
	return errors.Join(errs...)
}
