package bgp

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// onEvent logs session state changes and keeps the established gauge.
// gobgp calls it from its watch goroutine.
func (s *Server) onEvent(r *api.WatchEventResponse) {
	pe := r.GetPeer()
	if pe == nil || pe.GetPeer().GetState() == nil {
		return
	}
	st := pe.GetPeer().GetState()
	addr, state := st.GetNeighborAddress(), st.GetSessionState()
	s.peerMu.Lock()
	prev, known := s.peerState[addr]
	s.peerState[addr] = state
	s.peerMu.Unlock()
	if known && prev == state {
		return
	}
	up := 0.0
	if state == api.PeerState_ESTABLISHED {
		up = 1
	}
	s.m.established.WithLabelValues(s.localASN, addr).Set(up)
	args := []any{"peer", addr, "state", stateName(state), "previous", stateName(prev)}
	if state == api.PeerState_ESTABLISHED {
		args = append(args, "peer_asn", st.GetPeerAsn(), "local_address", pe.GetPeer().GetTransport().GetLocalAddress(),
			"router_id", st.GetRouterId())
	}
	switch {
	case state == api.PeerState_ESTABLISHED:
		s.log.Info("BGP session state change", args...)
	case prev == api.PeerState_ESTABLISHED && s.stopping.Load():
		s.log.Info("BGP session state change: closed by Stop", args...)
	case prev == api.PeerState_ESTABLISHED:
		s.log.Warn("BGP session state change: session down", args...)
	default:
		s.log.Debug("BGP session state change", args...)
	}
}

func stateName(st api.PeerState_SessionState) string {
	if st == api.PeerState_UNKNOWN {
		return "idle"
	}
	return strings.ToLower(st.String())
}

// Peers is every configured peer with its session state, in config order.
func (s *Server) Peers() []PeerStatus {
	s.mu.Lock()
	b, running := s.bgp, s.running
	s.mu.Unlock()
	byAddr := map[string]*api.Peer{}
	if running {
		_ = b.ListPeer(context.Background(), &api.ListPeerRequest{EnableAdvertised: true}, func(p *api.Peer) {
			byAddr[p.GetConf().GetNeighborAddress()] = p
		})
	}
	out := make([]PeerStatus, 0, len(s.cfg.Peers))
	for _, a := range s.cfg.Peers {
		ps := PeerStatus{Address: a.Unmap(), State: "stopped"}
		if p, ok := byAddr[a.Unmap().String()]; ok {
			st := p.GetState()
			ps.State = stateName(st.GetSessionState())
			ps.Established = st.GetSessionState() == api.PeerState_ESTABLISHED
			if ps.Established {
				ps.PeerASN = st.GetPeerAsn()
				ps.LocalAddress = p.GetTransport().GetLocalAddress()
				for _, f := range negotiated(p) {
					ps.Advertised += advertised(p, f)
				}
			}
		}
		out = append(out, ps)
	}
	return out
}

// Status is the /bgp view: configuration summary, sessions, announced routes.
type Status struct {
	Enabled  bool         `json:"enabled"`
	Running  bool         `json:"running"`
	LocalASN uint32       `json:"local_asn"`
	RouterID netip.Addr   `json:"router_id"`
	ASPath   []uint32     `json:"as_path"`
	Peers    []PeerStatus `json:"peers"`
	Routes   []Route      `json:"routes"`
}

// Status is a JSON-able snapshot for the instrumentation API.
func (s *Server) Status() Status {
	s.mu.Lock()
	running := s.running
	s.mu.Unlock()
	return Status{
		Enabled: s.cfg.Enabled, Running: running, LocalASN: s.cfg.LocalASN, RouterID: s.cfg.RouterID,
		ASPath: s.cfg.ASPath, Peers: s.Peers(), Routes: s.Routes(),
	}
}

// negotiated is the families both sides announced in their OPENs (IPv4
// unicast alone when the router sent no multiprotocol capability).
func negotiated(p *api.Peer) []*api.Family {
	var remote []*api.Family
	for _, c := range p.GetState().GetRemoteCap() {
		m, err := c.UnmarshalNew()
		if mp, ok := m.(*api.MultiProtocolCapability); err == nil && ok {
			remote = append(remote, mp.GetFamily())
		}
	}
	if len(remote) == 0 {
		remote = []*api.Family{familyV4}
	}
	var out []*api.Family
	for _, af := range p.GetAfiSafis() {
		for _, f := range remote {
			if sameFamily(af.GetConfig().GetFamily(), f) {
				out = append(out, f)
			}
		}
	}
	return out
}

func sameFamily(a, b *api.Family) bool {
	return a.GetAfi() == b.GetAfi() && a.GetSafi() == b.GetSafi()
}

func advertised(p *api.Peer, f *api.Family) uint64 {
	for _, af := range p.GetAfiSafis() {
		if sameFamily(af.GetState().GetFamily(), f) {
			return af.GetState().GetAdvertised()
		}
	}
	return 0
}

// sentWatch is, for one established peer, the UPDATE counter before the
// withdrawals and how many UPDATEs the withdrawals add: gobgp sends one
// UPDATE per peer for each DeletePath of an advertised path.
type sentWatch struct {
	before, expect uint64
}

func (s *Server) sentSnapshot(ctx context.Context) (map[string]sentWatch, error) {
	w := map[string]sentWatch{}
	err := s.bgp.ListPeer(ctx, &api.ListPeerRequest{EnableAdvertised: true}, func(p *api.Peer) {
		if p.GetState().GetSessionState() != api.PeerState_ESTABLISHED {
			return
		}
		var n uint64
		for _, f := range negotiated(p) {
			n += advertised(p, f)
		}
		if n > 0 {
			w[p.GetConf().GetNeighborAddress()] = sentWatch{before: p.GetState().GetMessages().GetSent().GetUpdate(), expect: n}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("bgp: list peers before withdrawing: %w", err)
	}
	return w, nil
}

// waitSent polls the peers' sent-UPDATE counters until every withdrawal
// has been written to its socket, the session is gone (the router then
// drops our routes itself), or ctx ends.
func (s *Server) waitSent(ctx context.Context, w map[string]sentWatch) error {
	start := time.Now()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for len(w) > 0 {
		err := s.bgp.ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) {
			addr := p.GetConf().GetNeighborAddress()
			sw, ok := w[addr]
			if !ok {
				return
			}
			if p.GetState().GetSessionState() != api.PeerState_ESTABLISHED {
				s.log.Warn("BGP session went down before the withdrawals were sent", "peer", addr)
				delete(w, addr)
				return
			}
			if sent := p.GetState().GetMessages().GetSent().GetUpdate(); sent >= sw.before+sw.expect {
				s.log.Debug("BGP withdrawals sent to peer", "peer", addr, "updates", sent-sw.before, "after", time.Since(start))
				delete(w, addr)
			}
		})
		if err != nil {
			return fmt.Errorf("bgp: waiting for withdrawals: %w", err)
		}
		if len(w) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			peers := make([]string, 0, len(w))
			for a := range w {
				peers = append(peers, a)
			}
			return fmt.Errorf("bgp: withdrawals not confirmed sent to %v: %w", peers, ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}
