package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/internal/cli"
	"github.com/geotraffic/geotraffic/routing"
)

// Env is what confctl takes from its process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Terminal: a person can answer a confirmation on Stdin.
	Terminal bool
	Now      func() time.Time
	// Open connects to the store; nil opens etcd as the options say.
	Open func(Options) (Store, func(), error)
}

// Exit codes.
const (
	ExitOK      = cli.ExitOK
	ExitRefused = cli.ExitError // refused or failed: nothing was written
	ExitUsage   = cli.ExitUsage
)

// Main runs one confctl command line and returns the exit code.
func Main(ctx context.Context, env Env, args []string) int {
	opts, cmd, err := Parse(args, env.Getenv)
	if errors.Is(err, ErrHelp) {
		fmt.Fprint(env.Stdout, Usage)
		return ExitOK
	}
	if err == nil {
		err = open(ctx, env, opts, cmd)
	}
	return report(env.Stderr, err)
}

// report prints err, one line per problem, and maps it to an exit code.
func report(w io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	var usage *UsageError
	if errors.As(err, &usage) {
		return cli.Fail(w, "confctl", err)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(w, "confctl: "+strings.TrimSpace(line))
	}
	return ExitRefused
}

// open connects to the store and runs cmd, giving up after --timeout.
func open(ctx context.Context, env Env, opts Options, cmd Command) error {
	if env.Open == nil {
		env.Open = openEtcd
	}
	store, closeStore, err := env.Open(opts)
	if err != nil {
		return timedOut(err, opts)
	}
	defer closeStore()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	return timedOut(Run(ctx, env, store, opts, cmd), opts)
}

// timedOut says which etcd did not answer, rather than only "deadline".
func timedOut(err error, opts Options) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (etcd %s did not answer within --timeout %s)", err, strings.Join(opts.Etcd.Endpoints, ","), opts.Timeout)
	}
	return err
}

func openEtcd(opts Options) (Store, func(), error) {
	cli, err := opts.Etcd.Client()
	if err != nil {
		return nil, nil, err
	}
	return EtcdStore{Client: cli, L: conftool.NewLayout(opts.Prefix)}, func() { _ = cli.Close() }, nil
}

// Run runs a parsed command against store.
func Run(ctx context.Context, env Env, store Store, opts Options, cmd Command) error {
	log := newLogger(env.Stderr)
	switch cmd.Name {
	case "log":
		return runLog(ctx, env, store, cmd)
	case "sync":
		return runSync(ctx, env, log, store, opts, cmd)
	}
	kind := opts.Kind
	if cmd.Name != "select" {
		kind = conftool.Node // the host shortcuts
	}
	sel, err := conftool.ParseSelector(kind, cmd.Selector)
	if err != nil {
		return &UsageError{Err: err}
	}
	v := newView(store)
	objs, err := v.objects(ctx, kind)
	if err != nil {
		return err
	}
	if cmd.Action == "get" {
		return runGet(env, objs, sel)
	}
	var changes []change
	if cmd.Action == "delete" {
		changes, err = planDelete(objs, sel)
	} else {
		changes, err = planSet(store.Layout(), objs, sel, cmd.Assign)
	}
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		fmt.Fprintln(env.Stderr, "confctl: nothing to change: the selected objects already have these values")
		return nil
	}
	return write(ctx, env, log, v, opts, cmd, changes)
}

// runGet prints the selected objects, one line each, sorted by key. A
// value that does not parse is printed as it is and reported; it does not
// fail the get.
func runGet(env Env, objs []conftool.Object, sel conftool.Selector) error {
	matched := selectObjects(objs, sel)
	if len(matched) == 0 {
		return noMatch(sel, "get")
	}
	for _, o := range matched {
		line, bad := GetLine(o)
		fmt.Fprintln(env.Stdout, line)
		if bad != nil {
			fmt.Fprintf(env.Stderr, "confctl: warning: %s: invalid value (shown as stored): %s\n", o.Key, oneLine(bad))
		}
	}
	return nil
}

// write validates, checks routing, confirms and commits a planned change.
func write(ctx context.Context, env Env, log *slog.Logger, v *view, opts Options, cmd Command, changes []change) error {
	cfg, err := loadRouting(opts)
	if err != nil {
		return err
	}
	if cfg == nil && needsRouting(changes) {
		return usagef("this change can break routing (a route, an app route or a site going down), so it is checked against the whole routing first: pass --routing FILE (or set $%s)", EnvRouting)
	}
	ks, err := known(ctx, v, cfg)
	if err != nil {
		return err
	}
	if err := validate(changes, ks); err != nil {
		return fmt.Errorf("refused, nothing was written:\n%w", err)
	}
	var guards []etcdstore.Guard
	forced := false
	if cfg != nil && touchesRouting(changes) {
		if forced, err = safe(ctx, env, v, cfg, opts, changes); err != nil {
			return err
		}
		guards = v.guards(routingKinds()...)
	}
	if err := confirm(env, opts, changes, forced); err != nil {
		return err
	}
	rec := record(env, cmd)
	return commit(ctx, log, v.store, changes, guards, rec)
}

// safe runs the routing check; forced reports a refusal that --force
// overrode.
func safe(ctx context.Context, env Env, v *view, cfg *routing.Config, opts Options, changes []change) (forced bool, err error) {
	before, err := v.all(ctx, routingKinds()...)
	if err != nil {
		return false, err
	}
	rc, err := checkRouting(cfg, before, applyChanges(before, changes))
	for _, w := range rc.Warnings {
		fmt.Fprintf(env.Stderr, "confctl: warning: %s\n", w)
	}
	switch {
	case err != nil:
		return false, err
	case rc.Unsafe == nil:
		return false, nil
	case !opts.Force:
		return false, fmt.Errorf("%w\nnothing was written; make the change safe first (e.g. move the app route before marking its DC down), or pass --force", rc.Unsafe)
	}
	for _, line := range strings.Split(rc.Unsafe.Error(), "\n") {
		fmt.Fprintf(env.Stderr, "confctl: WARNING (--force): %s\n", strings.TrimSpace(line))
	}
	fmt.Fprintln(env.Stderr, "confctl: WARNING (--force): writing it anyway; the audit log records --force")
	return true, nil
}

// commit writes the changes in one guarded transaction and logs them.
func commit(ctx context.Context, log *slog.Logger, store Store, changes []change, guards []etcdstore.Guard, rec etcdstore.AuditRecord) error {
	sc := make([]etcdstore.Change, len(changes))
	for i, c := range changes {
		sc[i] = c.store()
	}
	rev, err := store.Commit(ctx, sc, guards, rec)
	switch {
	case errors.Is(err, etcdstore.ErrConflict):
		return fmt.Errorf("refused: %s: %w; run the command again to decide on the current state", keys(changes), err)
	case err != nil:
		return fmt.Errorf("%s: %w (if the transaction reached etcd it was written whole or not at all: see confctl log)", keys(changes), err)
	}
	logChanges(log, rec, rev, changes)
	return nil
}

// keys names the objects of a change for an error.
func keys(changes []change) string {
	if len(changes) == 1 {
		return changes[0].Key
	}
	return fmt.Sprintf("%s and %d more", changes[0].Key, len(changes)-1)
}

// loadRouting reads routing.yaml when one was given.
func loadRouting(opts Options) (*routing.Config, error) {
	if opts.Routing == "" {
		return nil, nil
	}
	cfg, err := routing.Load(opts.Routing)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	return cfg, nil
}

// known are the known sites: routing.yaml's, else the site objects'.
func known(ctx context.Context, v *view, cfg *routing.Config) (knownSites, error) {
	if cfg != nil {
		names := make([]string, 0, len(cfg.Sites))
		for n := range cfg.Sites {
			names = append(names, n)
		}
		sort.Strings(names)
		return sitesFromNames(names, "sites: of "+cfg.File), nil
	}
	sites, err := v.objects(ctx, conftool.Site)
	if err != nil {
		return knownSites{}, err
	}
	return sitesFromObjects(sites), nil
}

// runLog prints the audit log, oldest first.
func runLog(ctx context.Context, env Env, store Store, cmd Command) error {
	recs, err := store.Log(ctx, cmd.N)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if cmd.JSON {
			line, err := jsonLine(r)
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, line)
			continue
		}
		fmt.Fprintln(env.Stdout, formatRecord(r))
	}
	return nil
}

// oneLine joins a multi-line error for a one-line message.
func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}
