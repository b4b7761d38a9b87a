// Package service keeps resolved routes current as routing.yaml and the
// admin_state file change, and serves them over HTTP as JSON with
// Prometheus metrics, and as an HTML overview page. A bad new file keeps
// the last good one in force.
package service

import (
	"github.com/geotraffic/geotraffic/internal/conf"

	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/routing"
)

// Options configure a Service.
type Options struct {
	RoutingPath    string
	AdminStatePath string
	Log            *slog.Logger
	// Registry receives the service's metrics; required, so nothing lands
	// in the global default registry.
	Registry *prometheus.Registry
	// Debounce is how long a burst of file events must be quiet before a
	// reload (default 20 ms: one save emits several events).
	Debounce time.Duration
	// Poll is the safety-net re-read interval for filesystems without
	// inotify (default 2 s; negative disables).
	Poll time.Duration
	// Etcd, when set, follows etcd's site, route and app-route objects.
	Etcd *EtcdOptions
}

// Snapshot is the routes in force, immutable once published.
type Snapshot struct {
	// Config is routing.yaml with the etcd overrides in force; State is
	// the etcd site objects overlaid by the admin_state file.
	Config     *routing.Config
	State      *adminstate.State
	Results    []routing.Result
	Generation uint64 // increases by one per re-resolution
	At         time.Time
	// Warnings are problems of the files in force that do not reject them
	// (routing.yaml backends no route uses, admin_state site/ lines that
	// match no site).
	Warnings []*conf.Error
}

// Service holds the last good routing config and admin state and the
// routes resolved from them.
type Service struct {
	opts Options
	log  *slog.Logger
	m    *metrics

	mu        sync.Mutex        // serializes reloads and etcd views; readers use snap
	cfg       *routing.Config   // the last good routing.yaml
	st        *adminstate.State // the last good admin_state file
	etcd      *follower         // nil without etcd
	remote    *Remote           // the latest from etcd; nil before its first view
	applied   *Remote           // whose overrides are in eff
	base      *routing.Config   // the cfg eff was built from
	eff       *routing.Config   // base with applied's overrides: what resolves
	tried     map[string]string // file kind -> digest of the last contents tried
	lastError map[string]string // file kind -> error of that try, "" if it was good
	snap      atomic.Pointer[Snapshot]
}

// File kinds, also the `file` label of metrics.
const (
	kindRouting = "routing"
	kindAdmin   = "admin_state"
)

// New loads both files. A bad file at start is an error: there is no last
// good state to keep serving.
func New(opts Options) (*Service, error) {
	if opts.RoutingPath == "" || opts.AdminStatePath == "" {
		return nil, errors.New("service: both the routing file and the admin_state file are required")
	}
	if opts.Registry == nil {
		return nil, errors.New("service: a metrics registry is required")
	}
	// Run watches the files' directories; a missing admin_state file is
	// fine (nothing forced), a missing directory cannot be watched.
	for _, p := range []string{opts.RoutingPath, opts.AdminStatePath} {
		dir := filepath.Dir(p)
		if fi, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("service: %s: its directory cannot be watched: %w", p, err)
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("service: %s: %s is not a directory", p, dir)
		}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 20 * time.Millisecond
	}
	if opts.Poll == 0 {
		opts.Poll = 2 * time.Second
	}
	s := &Service{opts: opts, log: opts.Log, m: newMetrics(opts.Registry, opts.Etcd != nil),
		tried: map[string]string{}, lastError: map[string]string{}}
	if opts.Etcd != nil {
		f, err := s.newFollower(*opts.Etcd, opts.Registry)
		if err != nil {
			return nil, err
		}
		s.etcd = f
	}
	if err := s.reloadRouting(); err != nil {
		return nil, err
	}
	if err := s.reloadAdmin(); err != nil {
		return nil, err
	}
	return s, nil
}

// Current returns the routes in force; never nil after New.
func (s *Service) Current() *Snapshot { return s.snap.Load() }

// Errors returns the error of the latest contents of each file that was
// rejected, keyed by "routing" or "admin_state", and of the latest etcd
// overrides if refused ("etcd"); empty when all are good.
func (s *Service) Errors() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.lastError {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// Reload re-reads both files now; unchanged contents are a no-op. It
// returns the errors of rejected files (the last good ones stay).
func (s *Service) Reload() error {
	return errors.Join(s.reloadRouting(), s.reloadAdmin())
}

// read returns the file contents and a digest; a missing file gets a
// digest of its own so the same absence is reported once.
func read(path string) ([]byte, string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "absent", err
	}
	if err != nil {
		return nil, "unreadable: " + err.Error(), err
	}
	return data, routing.Digest(data), nil
}

func (s *Service) reloadRouting() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := s.opts.RoutingPath
	data, digest, err := read(path)
	if digest == s.tried[kindRouting] {
		return s.errOf(kindRouting)
	}
	s.tried[kindRouting] = digest
	var cfg *routing.Config
	if err == nil {
		cfg, err = routing.Parse(path, data)
	} else {
		err = fmt.Errorf("routing: %w", err)
	}
	if err != nil {
		return s.reject(kindRouting, path, err)
	}
	s.cfg = cfg
	s.log.Info("routing: config loaded", "file", path, "clusters", len(cfg.Clusters), "sites", len(cfg.Sites))
	if s.combine() { // refused with the etcd overrides: nothing changes
		s.resolve()
		s.acceptEtcd()
	}
	s.accept(kindRouting)
	return nil
}

func (s *Service) reloadAdmin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := s.opts.AdminStatePath
	data, digest, err := read(path)
	if digest == s.tried[kindAdmin] {
		return s.errOf(kindAdmin)
	}
	s.tried[kindAdmin] = digest
	var st *adminstate.State
	switch {
	case errors.Is(err, os.ErrNotExist):
		st, err = adminstate.Empty(path), nil // as in gdnsd: no file, nothing forced
	case err == nil:
		st, err = adminstate.Parse(path, data)
	default:
		err = fmt.Errorf("admin_state: %w", err)
	}
	if err != nil {
		return s.reject(kindAdmin, path, err)
	}
	for _, c := range adminstate.Diff(s.st, st) {
		s.log.Info("admin_state: "+c, "file", path)
	}
	s.st = st
	s.resolve()
	s.accept(kindAdmin)
	return nil
}

func (s *Service) errOf(kind string) error {
	if e := s.lastError[kind]; e != "" {
		return errors.New(e)
	}
	return nil
}

// reject keeps the last good contents and reports the bad ones once.
func (s *Service) reject(kind, path string, err error) error {
	s.lastError[kind] = err.Error()
	s.m.reloads.WithLabelValues(kind, "error").Inc()
	s.m.valid.WithLabelValues(kind).Set(0)
	if s.snap.Load() == nil {
		return err // at start there is nothing to keep; New's caller reports it
	}
	s.log.Error(kind+": file rejected; the last good contents stay in force", "file", path, "err", err)
	return err
}

// accept records accepted contents; called once their routes are
// published, so that a scrape reading file_valid 1 never sees the routes
// of the contents before.
func (s *Service) accept(kind string) {
	s.lastError[kind] = ""
	s.m.reloads.WithLabelValues(kind, "success").Inc()
	s.m.valid.WithLabelValues(kind).Set(1)
	s.m.lastSuccess.WithLabelValues(kind).SetToCurrentTime()
}

// resolve publishes a new snapshot; called with mu held once both inputs
// exist.
func (s *Service) resolve() {
	if s.eff == nil || s.st == nil {
		return
	}
	var gen uint64 = 1
	if old := s.snap.Load(); old != nil {
		gen = old.Generation + 1
	}
	st := s.remote.State(s.st)
	snap := &Snapshot{Config: s.eff, State: st, Results: routing.Resolve(s.eff, st), Generation: gen, At: time.Now(),
		Warnings: warnings(s.eff, st)}
	old := s.snap.Swap(snap)
	s.m.observe(snap)
	s.log.Info("routing: routes resolved", "generation", gen, "routes", len(snap.Results))
	s.logNewWarnings(old, snap)
}

func warnings(cfg *routing.Config, st *adminstate.State) []*conf.Error {
	return append(slices.Clone(cfg.Warnings), routing.AdminStateWarnings(cfg, st)...)
}

// logNewWarnings logs the warnings of snap that old did not have, so a
// warning is logged once per appearance, not once per re-resolution.
func (s *Service) logNewWarnings(old, snap *Snapshot) {
	seen := map[string]bool{}
	if old != nil {
		for _, w := range old.Warnings {
			seen[w.Error()] = true
		}
	}
	for _, w := range snap.Warnings {
		if !seen[w.Error()] {
			s.log.Warn("routing: warning: "+w.Key+": "+w.Reason, "file", w.Pos.File, "line", w.Pos.Line)
		}
	}
}
