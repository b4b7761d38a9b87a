package ctl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/routing"
)

// syncKinds are the kinds sync defines. It creates sites first, then each
// cluster's routes and app routes, then nodes.
func syncKinds() []conftool.Kind {
	return []conftool.Kind{conftool.Site, conftool.Route, conftool.AppRoute, conftool.Node}
}

// runSync creates the objects the pools file and routing.yaml define and
// etcd lacks, never overwriting a value, and lists (or with --prune
// deletes) the objects they no longer define. It is the one command that
// may take several transactions: each holds at most etcdstore.MaxChanges
// objects and is guarded like any other, and running sync again finishes
// what a failed run left.
func runSync(ctx context.Context, env Env, log *slog.Logger, store Store, opts Options, cmd Command) error {
	data, err := os.ReadFile(cmd.Pools)
	if err != nil {
		return fmt.Errorf("pools: %w", err)
	}
	nodes, err := ParsePools(cmd.Pools, data)
	if err != nil {
		return fmt.Errorf("refused, nothing was written:\n%w", err)
	}
	cfg, err := loadRouting(opts)
	if err != nil {
		return err
	}
	want, err := defined(store.Layout(), cmd.Pools, nodes, cfg)
	if err != nil {
		return fmt.Errorf("refused, nothing was written:\n%w", err)
	}
	v := newView(store)
	have, err := v.all(ctx, syncKinds()...)
	if err != nil {
		return err
	}
	create, stale := diff(want, have)
	for _, o := range have {
		if err := conftool.Validate(o.Kind, o.Value); err != nil {
			fmt.Fprintf(env.Stderr, "confctl: warning: %s: invalid value, left as it is: %s\n", o.Key, oneLine(err))
		}
	}
	changes := create
	if cmd.Prune && len(stale) > 0 {
		changes = append(changes, stale...)
		if err := pruneSafe(ctx, env, v, cfg, opts, stale); err != nil {
			return err
		}
	}
	done, err := commitBatches(ctx, env, log, store, cmd, changes)
	printSync(env, done, stale, cmd.Prune)
	return err
}

// defined are the objects the files define, with the values sync gives
// new ones: nodes inactive at weight 0, sites up, routes as routing.yaml
// has them. A node at a dc that is not a site of routing.yaml is refused.
func defined(l conftool.Layout, poolsFile string, nodes []PoolNode, cfg *routing.Config) ([]conftool.Object, error) {
	var out []conftool.Object
	add := func(k conftool.Kind, value []byte, tags ...string) error {
		key, err := l.Key(k, tags...)
		if err != nil {
			return err
		}
		value, err = conftool.Canonical(k, value)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		out = append(out, conftool.Object{Kind: k, Key: key, Tags: tags, Value: value})
		return nil
	}
	var errs []error
	for _, site := range sortedNames(cfg.Sites) {
		errs = append(errs, add(conftool.Site, []byte(`{"state":"up"}`), site))
	}
	for _, cname := range cfg.ClusterNames() {
		c := cfg.Clusters[cname]
		for _, site := range c.SiteNames() {
			r := c.Routes[site]
			errs = append(errs, add(conftool.Route, routing.RouteSpec{Direct: r.Direct, Choices: r.Choices}.Value(), cname, site))
		}
		for _, aname := range c.AppNames() {
			a := c.Apps[aname]
			errs = append(errs, add(conftool.AppRoute, routing.AppRouteSpec{Mode: a.Mode, DCs: a.DCs}.Value(), cname, aname))
		}
	}
	for _, n := range nodes {
		if _, ok := cfg.Sites[n.DC]; !ok {
			key, _ := l.Key(conftool.Node, n.DC, n.Cluster, n.Service, n.Host)
			errs = append(errs, fmt.Errorf("%s (%s:%d): dc %q is not a site of %s", key, poolsFile, n.Line, n.DC, cfg.File))
			continue
		}
		errs = append(errs, add(conftool.Node, []byte(`{"weight":0,"pooled":"inactive"}`), n.DC, n.Cluster, n.Service, n.Host))
	}
	return out, errors.Join(errs...)
}

// diff returns the creations of wanted objects etcd lacks, and the
// deletions of objects etcd has that nothing defines.
func diff(want, have []conftool.Object) (create, stale []change) {
	haveKeys := map[string]bool{}
	for _, o := range have {
		haveKeys[o.Key] = true
	}
	wantKeys := map[string]bool{}
	for _, o := range want {
		wantKeys[o.Key] = true
		if !haveKeys[o.Key] {
			create = append(create, change{Kind: o.Kind, Key: o.Key, Tags: o.Tags, New: o.Value})
		}
	}
	for _, o := range have {
		if !wantKeys[o.Key] {
			old := o
			stale = append(stale, change{Kind: o.Kind, Key: o.Key, Tags: o.Tags, Old: &old})
		}
	}
	return create, stale
}

// pruneSafe checks that deleting the stale routing objects breaks no
// route (creations copy routing.yaml, so they change nothing).
func pruneSafe(ctx context.Context, env Env, v *view, cfg *routing.Config, opts Options, stale []change) error {
	if !touchesRouting(stale) {
		return nil
	}
	forced, err := safe(ctx, env, v, cfg, opts, stale)
	if err != nil {
		return err
	}
	if forced {
		return confirm(env, opts, stale, true)
	}
	return nil
}

// commitBatches writes the changes in transactions of at most
// etcdstore.MaxChanges, each with its own audit record, and returns what
// was written before any failure.
func commitBatches(ctx context.Context, env Env, log *slog.Logger, store Store, cmd Command, changes []change) ([]change, error) {
	var done []change
	for batch := range slices.Chunk(changes, etcdstore.MaxChanges) {
		if err := commit(ctx, log, store, batch, nil, record(env, cmd)); err != nil {
			if len(done) > 0 {
				err = fmt.Errorf("%w\n%d objects were written before this failure; run sync again to finish", err, len(done))
			}
			return done, err
		}
		done = append(done, batch...)
	}
	return done, nil
}

// printSync reports what sync did on stdout.
func printSync(env Env, done, stale []change, prune bool) {
	created, pruned := 0, 0
	for _, c := range done {
		if c.New == nil {
			pruned++
			fmt.Fprintf(env.Stdout, "pruned %s (was %s)\n", c.Key, c.Old.Value)
		} else {
			created++
			fmt.Fprintf(env.Stdout, "created %s %s\n", c.Key, c.New)
		}
	}
	if !prune {
		for _, c := range stale {
			fmt.Fprintf(env.Stdout, "stale %s (no longer defined; --prune deletes it)\n", c.Key)
		}
	}
	fmt.Fprintf(env.Stdout, "sync: %d created, %d pruned, %d stale left\n", created, pruned, len(stale)-pruned)
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
