package main

import (
	"flag"
	"fmt"
	"io"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/internal/cli"
	"github.com/geotraffic/geotraffic/routing"
	"github.com/geotraffic/geotraffic/routing/service"
)

// common holds the flags shared by the offline commands, and what load
// read from etcd with --etcd.
type common struct {
	routing, adminState, cluster, format string
	etcd                                 etcdFlags
	fs                                   *flag.FlagSet

	dnsSide  bool              // check: read etcd's admin-state objects too
	remote   *service.Remote   // nil without --etcd
	etcdObjs []conftool.Object // every object read
}

func (c *common) register(fs *flag.FlagSet, withCluster bool, formats string) {
	c.fs = fs
	c.etcd.register(fs, "how long to wait for etcd with --etcd; unreachable by then is an error (exit 1)")
	fs.StringVar(&c.routing, "routing", "", "routing.yaml to read (required)")
	fs.StringVar(&c.adminState, "admin-state", "", "admin_state file shared with authdns; 'site/NAME => DOWN' takes a site out (default: none, nothing forced; a missing file forces nothing)")
	if withCluster {
		fs.StringVar(&c.cluster, "cluster", "", "only this cluster (default: all)")
	}
	fs.StringVar(&c.format, "format", formats[:indexOf(formats, '|')], "output format: "+formats)
}

func indexOf(s string, b byte) int {
	for i := range len(s) {
		if s[i] == b {
			return i
		}
	}
	return len(s)
}

// load reads routing.yaml and the admin state, with --etcd under etcd's
// objects as `serve` takes them, and checks the flags they need. Warnings
// about routing.yaml (problems that do not reject it) go to stderr.
func (c *common) load(stderr io.Writer, formats ...string) (*routing.Config, *adminstate.State, error) {
	if c.routing == "" {
		return nil, nil, cli.Usagef("--routing FILE is required")
	}
	if err := c.etcd.check(c.fs); err != nil {
		return nil, nil, err
	}
	ok := false
	for _, f := range formats {
		ok = ok || c.format == f
	}
	if !ok {
		return nil, nil, cli.Usagef("--format must be one of %v, not %q", formats, c.format)
	}
	cfg, err := routing.Load(c.routing)
	if err != nil {
		return nil, nil, err
	}
	var st *adminstate.State
	if c.adminState != "" {
		if st, err = adminstate.Load(c.adminState); err != nil {
			return nil, nil, err
		}
	}
	if c.etcd.enabled() {
		if cfg, st, err = c.withEtcd(stderr, cfg, st); err != nil {
			return nil, nil, err
		}
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "trafficctl:", routing.Warning(w))
	}
	if st != nil {
		warnAdminState(stderr, cfg, st)
	}
	if c.cluster != "" {
		if _, ok := cfg.Clusters[c.cluster]; !ok {
			return nil, nil, fmt.Errorf("unknown cluster %q (clusters: %v)", c.cluster, cfg.ClusterNames())
		}
	}
	return cfg, st, nil
}

// withEtcd reads etcd once and applies its objects as serve does: the
// overrides over routing.yaml (refused as a whole if they do not validate
// with it: an error here, as there is no last good combination), the
// sites under the admin_state file, which wins for the same key.
func (c *common) withEtcd(stderr io.Writer, cfg *routing.Config, st *adminstate.State) (*routing.Config, *adminstate.State, error) {
	r, objs, err := c.etcd.remote(stderr, c.dnsSide)
	if err != nil {
		return nil, nil, err
	}
	c.remote, c.etcdObjs = r, objs
	if cfg, err = r.Config(cfg); err != nil {
		return nil, nil, err
	}
	return cfg, r.State(st), nil
}

// warnAdminState prints the site/ lines of st that match no site of cfg
// (typos such as site/cdfw), which would otherwise change nothing silently.
func warnAdminState(stderr io.Writer, cfg *routing.Config, st *adminstate.State) {
	for _, w := range routing.AdminStateWarnings(cfg, st) {
		fmt.Fprintln(stderr, "trafficctl:", routing.Warning(w))
	}
}

func (c *common) filter(results []routing.Result) []routing.Result {
	if c.cluster == "" {
		return results
	}
	out := []routing.Result{}
	for _, r := range results {
		if r.Cluster == c.cluster {
			out = append(out, r)
		}
	}
	return out
}

func cmdRoutes(fs *flag.FlagSet) runFunc {
	var c common
	c.register(fs, true, "table|json")
	return func(pos []string, stdout, stderr io.Writer) error {
		if len(pos) > 0 {
			return cli.Usagef("unexpected arguments %q", pos)
		}
		cfg, st, err := c.load(stderr, "table", "json")
		if err != nil {
			return err
		}
		results := c.filter(routing.Resolve(cfg, st))
		if c.format == "json" {
			return routing.WriteJSON(stdout, results)
		}
		return routing.WriteRoutesTable(stdout, results)
	}
}

func cmdExplain(fs *flag.FlagSet) runFunc {
	var c common
	c.register(fs, false, "text|json")
	return func(pos []string, stdout, stderr io.Writer) error {
		if len(pos) < 2 || len(pos) > 3 {
			return cli.Usagef("expected CLUSTER SITE [APP], got %q", pos)
		}
		c.cluster = pos[0]
		cfg, st, err := c.load(stderr, "text", "json")
		if err != nil {
			return err
		}
		app := ""
		if len(pos) == 3 {
			app = pos[2]
			if _, ok := cfg.Clusters[c.cluster].Apps[app]; !ok {
				return fmt.Errorf("cluster %s has no app %q (apps: %v)", c.cluster, app, cfg.Clusters[c.cluster].AppNames())
			}
		}
		for _, r := range routing.ResolveCluster(cfg, cfg.Clusters[c.cluster], st) {
			if r.Site != pos[1] {
				continue
			}
			if c.format == "json" {
				if app != "" {
					r.Apps = map[string]routing.AppRoute{app: r.Apps[app]}
				}
				return routing.WriteJSON(stdout, r)
			}
			return routing.WriteExplain(stdout, r, app)
		}
		return fmt.Errorf("cluster %s has no route_table entry for site %q (sites: %v)", c.cluster, pos[1], cfg.Clusters[c.cluster].SiteNames())
	}
}

func cmdWhatIf(fs *flag.FlagSet) runFunc {
	var c common
	var down string
	c.register(fs, true, "table|json")
	fs.StringVar(&down, "down", "", "comma-separated sites to take DOWN (required)")
	return func(pos []string, stdout, stderr io.Writer) error {
		if len(pos) > 0 {
			return cli.Usagef("unexpected arguments %q", pos)
		}
		sites := splitList(down)
		if len(sites) == 0 {
			return cli.Usagef("--down SITE[,SITE] is required")
		}
		cfg, st, err := c.load(stderr, "table", "json")
		if err != nil {
			return err
		}
		changes, err := routing.WhatIf(cfg, st, sites)
		if err != nil {
			return err
		}
		if c.cluster != "" {
			kept := []routing.Change{}
			for _, ch := range changes {
				if ch.Cluster == c.cluster {
					kept = append(kept, ch)
				}
			}
			changes = kept
		}
		if c.format == "json" {
			return routing.WriteJSON(stdout, changes)
		}
		return routing.WriteWhatIfTable(stdout, changes)
	}
}

func cmdCheck(fs *flag.FlagSet) runFunc {
	var c common
	var authdns string
	c.register(fs, false, "text|json")
	c.dnsSide = true
	fs.StringVar(&authdns, "authdns-config", "", "authdns configuration file (required)")
	return func(pos []string, stdout, stderr io.Writer) error {
		if len(pos) > 0 {
			return cli.Usagef("unexpected arguments %q", pos)
		}
		if authdns == "" {
			return cli.Usagef("--authdns-config FILE is required")
		}
		cfg, st, err := c.load(stderr, "text", "json")
		if err != nil {
			return err
		}
		view, err := loadDNSView(authdns, c.dnsEtcd(stderr))
		if err != nil {
			return err
		}
		if c.adminState == "" {
			// The file is shared: without --admin-state, routing is checked
			// under the admin_state authdns itself reads (under etcd's sites).
			st = c.remote.State(view.admin)
			if view.admin != nil && view.admin.File != "" {
				fmt.Fprintf(stderr, "trafficctl check: routing under %s (the admin_state of %s)\n", view.admin.File, authdns)
				warnAdminState(stderr, cfg, view.admin) // load warned about etcd's
			}
		}
		findings := routing.Check(cfg, st, view)
		if c.format == "json" {
			if findings == nil {
				findings = []routing.Finding{}
			}
			if err := routing.WriteJSON(stdout, findings); err != nil {
				return err
			}
		} else {
			for _, f := range findings {
				fmt.Fprintln(stdout, f)
			}
			if len(findings) == 0 {
				fmt.Fprintln(stdout, "ok: routing and GeoDNS agree")
			}
		}
		if len(findings) > 0 {
			return findingsError{len(findings)}
		}
		return nil
	}
}

// dnsEtcd is what authdns takes from etcd (site and admin-state objects,
// under its admin_state file), so that `check --etcd` compares routing
// with GeoDNS as both follow etcd; nil without --etcd.
func (c *common) dnsEtcd(stderr io.Writer) *adminstate.State {
	if c.remote == nil {
		return nil
	}
	st, bad := conftool.ToAdminState(c.etcdObjs, c.remote.Revision)
	for _, err := range bad {
		fmt.Fprintf(stderr, "trafficctl: warning: etcd: value left out: %v\n", err)
	}
	return st
}
