package bgp

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	api "github.com/osrg/gobgp/v3/api"
)

// SetRoutes makes the announced set equal to routes: new prefixes are
// announced, gone ones withdrawn, and a changed MED re-announced (an
// implicit replace, no withdraw gap). Invalid routes change nothing.
// Before Start the routes are kept and announced by Start.
func (s *Server) SetRoutes(ctx context.Context, routes []Route) error {
	if err := s.cfg.CheckRoutes(routes); err != nil {
		return fmt.Errorf("bgp: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return errors.New("bgp: SetRoutes after Stop")
	case !s.running:
		s.pending = slices.Clone(routes)
		return nil
	}
	return s.apply(ctx, routes)
}

// apply is SetRoutes with s.mu held and the speaker running. It goes on
// after an error so one bad path does not hold back the others.
func (s *Server) apply(ctx context.Context, routes []Route) error {
	want := make(map[netip.Prefix]Route, len(routes))
	for _, r := range routes {
		want[r.Prefix] = r
	}
	var errs []error
	for _, a := range s.sortedAnnounced() {
		if _, ok := want[a.route.Prefix]; !ok {
			if err := s.withdraw(ctx, a); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, r := range sortRoutes(routes) {
		old, ok := s.announced[r.Prefix]
		if ok && old.route == r {
			continue
		}
		if err := s.announce(ctx, r, ok, old.route.MED); err != nil {
			errs = append(errs, err)
		}
	}
	s.updateGauges()
	return errors.Join(errs...)
}

func (s *Server) announce(ctx context.Context, r Route, replace bool, oldMED uint32) error {
	p, err := s.cfg.apiPath(r)
	if err != nil {
		return err
	}
	resp, err := s.bgp.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: p})
	if err != nil {
		return fmt.Errorf("bgp: announce %s: %w", r.Prefix, err)
	}
	s.announced[r.Prefix] = announced{route: r, uuid: resp.GetUuid(), path: p}
	if replace {
		s.m.changes.WithLabelValues("reannounce").Inc()
		s.log.Info("BGP re-announce", "prefix", r.Prefix, "med", r.MED, "old_med", oldMED)
	} else {
		s.m.changes.WithLabelValues("announce").Inc()
		s.log.Info("BGP announce", "prefix", r.Prefix, "med", r.MED, "next_hop", s.nextHop(r.Prefix),
			"as_path", s.cfg.ASPath, "communities", len(s.cfg.Communities))
	}
	return nil
}

// withdraw removes exactly the path we added: by UUID, or by the path
// itself if gobgp no longer knows the UUID. Never a DeletePath without
// either, which would remove every local path.
func (s *Server) withdraw(ctx context.Context, a announced) error {
	if len(a.uuid) == 0 && a.path == nil {
		return fmt.Errorf("bgp: withdraw %s: no handle on the path", a.route.Prefix)
	}
	var err error
	if len(a.uuid) > 0 {
		err = s.bgp.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: a.path.GetFamily(), Uuid: a.uuid})
	}
	if (err != nil || len(a.uuid) == 0) && a.path != nil {
		err = s.bgp.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: a.path.GetFamily(), Path: a.path})
	}
	if err != nil {
		return fmt.Errorf("bgp: withdraw %s: %w", a.route.Prefix, err)
	}
	delete(s.announced, a.route.Prefix)
	s.m.changes.WithLabelValues("withdraw").Inc()
	s.log.Info("BGP withdraw", "prefix", a.route.Prefix, "med", a.route.MED)
	return nil
}

func (s *Server) nextHop(p netip.Prefix) netip.Addr {
	if p.Addr().Is4() {
		return s.cfg.NextHopV4
	}
	return s.cfg.NextHopV6
}

func (s *Server) updateGauges() {
	var v4, v6 float64
	for p := range s.announced {
		if p.Addr().Is4() {
			v4++
		} else {
			v6++
		}
	}
	s.m.announced.WithLabelValues("ipv4").Set(v4)
	s.m.announced.WithLabelValues("ipv6").Set(v6)
}

// Routes is the announced set, sorted by prefix.
func (s *Server) Routes() []Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Route, 0, len(s.announced))
	for _, a := range s.sortedAnnounced() {
		out = append(out, a.route)
	}
	return out
}

func (s *Server) sortedAnnounced() []announced {
	out := make([]announced, 0, len(s.announced))
	for _, a := range s.announced {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b announced) int { return comparePrefix(a.route.Prefix, b.route.Prefix) })
	return out
}

func sortRoutes(rs []Route) []Route {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b Route) int { return comparePrefix(a.Prefix, b.Prefix) })
	return out
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
