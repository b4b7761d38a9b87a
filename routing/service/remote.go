package service

import (
	"github.com/geotraffic/geotraffic/internal/conf"

	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/routing"
)

// EtcdKinds lists the object kinds routing takes from etcd: sites (DOWN
// or UP) and route and app-route overrides. Pools are lvsd's and
// admin-state objects GeoDNS's, so neither is read (pools may hold 10,000
// nodes).
func EtcdKinds() []conftool.Kind {
	return []conftool.Kind{conftool.Site, conftool.Route, conftool.AppRoute}
}

// Remote is the routing state kept in etcd, as routing takes it: site
// objects as admin_state entries, and route and app-route objects as
// overrides of routing.yaml's entries. Whether the overrides fit a given
// routing.yaml is for Config to say.
type Remote struct {
	Revision  int64
	Sites     *adminstate.State // nil without site objects
	Overrides routing.Overrides
	routes    map[string]map[string]string // cluster -> site -> source
	apps      map[string]map[string]string // cluster -> app -> source
}

// NewRemote reads objs (of any kinds; only EtcdKinds' are used) as of
// revision rev. A value that does not parse is left out and returned in
// bad, naming its key: a watcher keeps only valid values, so this happens
// only to a one-shot read.
func NewRemote(objs []conftool.Object, rev int64) (r *Remote, bad []error) {
	r = &Remote{Revision: rev, routes: map[string]map[string]string{}, apps: map[string]map[string]string{}}
	var sites []conftool.Object
	for _, o := range objs {
		switch o.Kind {
		case conftool.Site:
			sites = append(sites, o)
		case conftool.Route:
			bad = appendErr(bad, o, r.addRoute(o))
		case conftool.AppRoute:
			bad = appendErr(bad, o, r.addApp(o))
		}
	}
	if len(sites) > 0 {
		st, more := conftool.ToAdminState(sites, rev)
		r.Sites, bad = st, append(bad, more...)
	}
	return r, bad
}

func appendErr(bad []error, o conftool.Object, err error) []error {
	if err == nil {
		return bad
	}
	return append(bad, fmt.Errorf("%s: %w", o.Key, err))
}

// Source names an object as explanations and errors show it.
func Source(o conftool.Object) string {
	return "etcd " + o.Key + "@" + strconv.FormatInt(o.ModRevision, 10)
}

func (r *Remote) addRoute(o conftool.Object) error {
	spec, err := routing.ParseRouteValue(o.Value)
	if err != nil {
		return err
	}
	spec.Source = Source(o)
	c, site := o.Tag("cluster"), o.Tag("site")
	if r.Overrides.Routes == nil {
		r.Overrides.Routes = map[string]map[string]routing.RouteSpec{}
	}
	if r.Overrides.Routes[c] == nil {
		r.Overrides.Routes[c], r.routes[c] = map[string]routing.RouteSpec{}, map[string]string{}
	}
	r.Overrides.Routes[c][site], r.routes[c][site] = spec, spec.Source
	return nil
}

func (r *Remote) addApp(o conftool.Object) error {
	spec, err := routing.ParseAppRouteValue(o.Value)
	if err != nil {
		return err
	}
	spec.Source = Source(o)
	c, app := o.Tag("cluster"), o.Tag("app")
	if r.Overrides.AppRoutes == nil {
		r.Overrides.AppRoutes = map[string]map[string]routing.AppRouteSpec{}
	}
	if r.Overrides.AppRoutes[c] == nil {
		r.Overrides.AppRoutes[c], r.apps[c] = map[string]routing.AppRouteSpec{}, map[string]string{}
	}
	r.Overrides.AppRoutes[c][app], r.apps[c][app] = spec, spec.Source
	return nil
}

// State overlays the site objects under the local admin_state file: the
// file's lines come last, so for the same key the file wins, and it stays
// an emergency override that works while etcd is unreachable. r may be nil.
func (r *Remote) State(file *adminstate.State) *adminstate.State {
	if r == nil {
		return adminstate.Overlay(nil, file)
	}
	return adminstate.Overlay(r.Sites, file)
}

// Config applies the overrides to cfg and validates the result as a
// whole (routing.Config.WithOverrides). A refusal names the etcd key of
// every override involved; cfg itself is never modified. r may be nil.
func (r *Remote) Config(cfg *routing.Config) (*routing.Config, error) {
	if r.Len() == 0 {
		return cfg, nil
	}
	next, err := cfg.WithOverrides(r.Overrides)
	if err == nil {
		return next, nil
	}
	lines := []string{}
	for _, e := range flatten(err) {
		lines = append(lines, r.name(e))
	}
	return nil, fmt.Errorf("etcd overrides do not validate with %s:\n%s", cfg.File, strings.Join(lines, "\n"))
}

// Len is the number of overrides.
func (r *Remote) Len() int {
	if r == nil {
		return 0
	}
	n := 0
	for _, m := range r.routes {
		n += len(m)
	}
	for _, m := range r.apps {
		n += len(m)
	}
	return n
}

// Sources lists every override's source, sorted.
func (r *Remote) Sources() []string {
	out := []string{}
	if r == nil {
		return out
	}
	for _, m := range r.routes {
		for _, s := range m {
			out = append(out, s)
		}
	}
	for _, m := range r.apps {
		for _, s := range m {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// flatten undoes errors.Join, which WithOverrides returns.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// name prefixes one problem with the etcd keys it is about.
func (r *Remote) name(err error) string {
	var e *conf.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	key, over := routing.OverrideKey(e)
	if !over {
		return err.Error()
	}
	return strings.Join(r.keysOf(key), ", ") + ": " + err.Error()
}

// keysOf maps the routing.yaml path of a problem back to the sources of
// the overrides it is about: the entry or app itself, else every override
// of the cluster (an unknown cluster), or of its route table (no site is
// direct), else every override.
func (r *Remote) keysOf(path string) []string {
	var exact, cluster []string
	for c, m := range r.routes {
		tbl := "clusters." + c + ".route_table"
		for site, src := range m {
			switch path {
			case tbl + "." + site:
				exact = append(exact, src)
			case "clusters." + c, tbl:
				cluster = append(cluster, src)
			}
		}
	}
	for c, m := range r.apps {
		for app, src := range m {
			p := "clusters." + c + ".apps." + app
			switch path {
			case p, p + ".route":
				exact = append(exact, src)
			case "clusters." + c, "clusters." + c + ".apps":
				cluster = append(cluster, src)
			}
		}
	}
	for _, l := range [][]string{exact, cluster, r.Sources()} {
		if len(l) > 0 {
			slices.Sort(l)
			return l
		}
	}
	return []string{"etcd"}
}
