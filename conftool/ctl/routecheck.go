package ctl

import (
	"errors"
	"fmt"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/routing"
)

// routingKinds are the kinds the routing of the caches is resolved from:
// routing.yaml overridden by route and app-route objects, under the site
// states of site and admin-state objects.
func routingKinds() []conftool.Kind {
	return []conftool.Kind{conftool.Site, conftool.AdminState, conftool.Route, conftool.AppRoute}
}

func parseRoute(v []byte) (routing.RouteSpec, error)       { return routing.ParseRouteValue(v) }
func parseAppRoute(v []byte) (routing.AppRouteSpec, error) { return routing.ParseAppRouteValue(v) }

// touchesRouting reports whether a change can change how the caches
// route: a route or app-route, a site state, or an admin_state key that
// may force `site/NAME`.
func touchesRouting(changes []change) bool {
	for _, c := range changes {
		switch c.Kind {
		case conftool.Route, conftool.AppRoute, conftool.Site:
			return true
		case conftool.AdminState:
			if mayNameSite(c.Tags[0]) {
				return true
			}
		}
	}
	return false
}

// needsRouting reports whether a change can break routing, so that it
// must not be written without routing.yaml to check it against: any route
// or app-route change, and a site going down.
func needsRouting(changes []change) bool {
	for _, c := range changes {
		switch c.Kind {
		case conftool.Route, conftool.AppRoute:
			return true
		case conftool.Site, conftool.AdminState:
			if c.Kind == conftool.AdminState && !mayNameSite(c.Tags[0]) {
				continue
			}
			if down(c.after()) && (c.Old == nil || !down(*c.Old)) {
				return true
			}
		}
	}
	return false
}

// down reports whether a site or admin-state object says DOWN.
func down(o conftool.Object) bool {
	e, ok, err := conftool.AdminEntry(o)
	return err == nil && ok && e.Down
}

// routingCheck is the outcome of resolving the routing before and after
// a change.
type routingCheck struct {
	Warnings []string // about the state already in etcd, not the change
	// Unsafe is routing's refusal of a change that breaks routes; it can
	// be overridden with --force, unlike an error from checkRouting.
	Unsafe *routing.UnsafeError
}

// checkRouting resolves the whole routing with routing's own resolution,
// as the daemons will: routing.yaml overridden by the route and app-route
// objects, under the site states, before and after the change. The
// change is refused (error) if the routing it leads to does not validate
// (a loop, an unknown site, no direct site), and reported Unsafe if it
// breaks a route that worked. before and after hold the objects of
// routingKinds.
func checkRouting(cfg *routing.Config, before, after []conftool.Object) (routingCheck, error) {
	var rc routingCheck
	ovBefore, bad := overrides(before)
	rc.Warnings = append(rc.Warnings, bad...)
	cfgBefore, err := cfg.WithOverrides(ovBefore)
	if err != nil {
		rc.Warnings = append(rc.Warnings, fmt.Sprintf("the routes in etcd do not validate now (%s); comparing with %s alone", oneLine(err), cfg.File))
		cfgBefore = cfg
	}
	ovAfter, _ := overrides(after) // the same stale values, already reported
	cfgAfter, err := cfg.WithOverrides(ovAfter)
	if err != nil {
		return rc, fmt.Errorf("refused: with this change the routing does not validate: %w", err)
	}
	stBefore, badSt := conftool.ToAdminState(siteStates(before), 0)
	for _, e := range badSt {
		rc.Warnings = append(rc.Warnings, fmt.Sprintf("ignored: %v", e))
	}
	stAfter, _ := conftool.ToAdminState(siteStates(after), 0)
	if err := routing.CheckChange(cfgBefore, stBefore, cfgAfter, stAfter); err != nil {
		var unsafe *routing.UnsafeError
		if !errors.As(err, &unsafe) {
			return rc, err
		}
		rc.Unsafe = unsafe
	}
	return rc, nil
}

// overrides are the route and app-route objects as routing overrides. A
// value that does not parse is left out, as the daemons leave it out,
// and reported.
func overrides(objs []conftool.Object) (routing.Overrides, []string) {
	ov := routing.Overrides{Routes: map[string]map[string]routing.RouteSpec{}, AppRoutes: map[string]map[string]routing.AppRouteSpec{}}
	var bad []string
	for _, o := range objs {
		switch o.Kind {
		case conftool.Route:
			spec, err := parseRoute(o.Value)
			if err != nil {
				bad = append(bad, fmt.Sprintf("ignored: %s: %s", o.Key, oneLine(err)))
				continue
			}
			cl := o.Tag("cluster")
			if ov.Routes[cl] == nil {
				ov.Routes[cl] = map[string]routing.RouteSpec{}
			}
			ov.Routes[cl][o.Tag("site")] = spec
		case conftool.AppRoute:
			spec, err := parseAppRoute(o.Value)
			if err != nil {
				bad = append(bad, fmt.Sprintf("ignored: %s: %s", o.Key, oneLine(err)))
				continue
			}
			cl := o.Tag("cluster")
			if ov.AppRoutes[cl] == nil {
				ov.AppRoutes[cl] = map[string]routing.AppRouteSpec{}
			}
			ov.AppRoutes[cl][o.Tag("app")] = spec
		}
	}
	return ov, bad
}

// siteStates are the objects that make up the admin state.
func siteStates(objs []conftool.Object) []conftool.Object {
	var out []conftool.Object
	for _, o := range objs {
		if o.Kind == conftool.Site || o.Kind == conftool.AdminState {
			out = append(out, o)
		}
	}
	return out
}
