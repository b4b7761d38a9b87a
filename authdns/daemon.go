package authdns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/dnsserver/rrl"
	"github.com/geotraffic/geotraffic/health"
)

// DefaultStageTimeout is how long a staged bundle waits for its commit
// before it is dropped, so a rollout that died between phases does not
// block the next one forever.
const DefaultStageTimeout = 10 * time.Minute

// Daemon is a running authdns: sockets, the serving state, the control and
// metrics listeners, and the loops that replace the state. Its lifecycle
// is New → Start → (Reload | Stage → Commit|Abort)* → Shutdown.
type Daemon struct {
	path string
	log  *slog.Logger
	srv  *dnsserver.Server
	reg  *prometheus.Registry

	mu sync.Mutex // serialises state changes (reload, rollout, admin_state)
	// dataMu serialises the changes that read the configuration and data
	// files (Reload, Commit); held while a reload builds, without mu.
	dataMu      sync.Mutex
	state       atomic.Pointer[State]
	admin       *adminstate.Watcher
	adminCancel context.CancelFunc
	// adminLive is admin for readers without mu (metrics).
	adminLive atomic.Pointer[adminstate.Watcher]
	// etcd follows etcd's objects while `etcd:` is set (swapped under mu;
	// read without it by status and metrics). etcdStart holds the
	// settings New validated until Start starts the first follower.
	etcd      atomic.Pointer[etcdFollower]
	etcdStart *etcdSettings
	ctx       context.Context
	listeners *listeners
	pending   *staged
	staging   bool // a stage is writing and building its set, unlocked
	shutDown  bool // Shutdown has begun: a reload built meanwhile is dropped
	// stageGate admits one stage request body at a time (see serveStage).
	stageGate chan struct{}
	aborted   map[string]time.Time // ids aborted before their stage arrived
	slots     DCSlots
	// cookieOnce makes the random cookie secret used without
	// cookie_secret_file, once per process, so a reload keeps it.
	cookieOnce   sync.Once
	cookieRandom *dnsserver.Cookies
	rrlStats     rrl.Stats     // response rate limiting, across limiters
	httpPanics   atomic.Uint64 // control and metrics requests whose handler panicked
	answers      answerHistory // DYNA/DYNC answers per interval, for the status page
	signing      signingLoop   // DNSSEC key watch and timing events

	// StageTimeout bounds how long a staged bundle is kept (default
	// DefaultStageTimeout); set before Start.
	StageTimeout time.Duration

	// Health, when set (before Start), is the health monitor whose
	// verdicts DYNA answers follow; Start and every reload or commit tell
	// it what to check. nil: every address is up.
	Health health.Source
	// healthSwaps counts health views swapped in (metrics).
	healthSwaps atomic.Uint64

	// OnUDPReaders, when set (before Start), is called with the number of
	// blocking UDP readers after Start and after every reload that rebinds
	// the DNS sockets; cmd/authdns sizes GOMAXPROCS with it.
	OnUDPReaders func(n int)

	now func() time.Time // tests move the stage-expiry clock; nil: time.Now
	// failpoint, set by tests, is called at each step of writing and
	// switching in a data set (they kill the process there).
	failpoint func(step string)

	started                      time.Time
	reloadOK, reloadFail         atomic.Uint64
	lastReloadOK, lastReloadFail atomic.Int64 // unix nanoseconds
	lastErr                      atomic.Pointer[string]
}

// staged is a bundle validated by Stage and waiting for Commit or Abort.
type staged struct {
	id      string
	dir     string
	bundle  *Bundle
	state   *State
	before  string    // the data digest served when it was staged
	admin   adminSnap // the admin_state file on disk when it was staged
	created time.Time
	timer   *time.Timer // drops it at expiry
}

// New loads and validates everything; it opens no sockets. reg receives
// the daemon's metrics (nil: a private registry).
func New(path string, log *slog.Logger, reg *prometheus.Registry) (*Daemon, error) {
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	d := &Daemon{path: path, log: log, reg: reg, StageTimeout: DefaultStageTimeout, stageGate: make(chan struct{}, 1)}
	admin := adminstate.Empty("")
	if cfg.AdminState != "" {
		if d.admin, err = d.newWatcher(cfg.AdminState); err != nil {
			return nil, err
		}
		admin = d.admin.Current()
	}
	if d.etcdStart, err = loadEtcd(cfg.Etcd); err != nil {
		return nil, err
	}
	st, err := Build(cfg, admin, log)
	if err != nil {
		return nil, err
	}
	if _, err := readToken(cfg); err != nil {
		return nil, err
	}
	st = d.withRRL(st)
	d.state.Store(st)
	d.srv = dnsserver.New(serverConfig(cfg), d.snapshot(st), log)
	if err := reg.Register(newCollector(d)); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := reg.Register(newRcvBufCollector(d.srv)); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := reg.Register(newPanicCollector(d)); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := reg.Register(newRRLCollector(d)); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := reg.Register(newDNSSECCollector(d)); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return d, nil
}

func serverConfig(cfg *Config) dnsserver.Config {
	return dnsserver.Config{Listen: cfg.Listen, UDPSockets: cfg.UDPSockets,
		TCPIdleTimeout: cfg.TCPIdleTimeout, MaxTCPClients: cfg.MaxTCPClients,
		MaxTCPClientsPerIP: cfg.MaxTCPClientsPerIP, TCPClientIPv4Prefix: cfg.TCPClientIPv4Prefix,
		TCPClientIPv6Prefix: cfg.TCPClientIPv6Prefix, UDPRcvBuf: cfg.UDPRcvBuf}
}

func (d *Daemon) newWatcher(path string) (*adminstate.Watcher, error) {
	return adminstate.NewWatcher(path, d.log, adminstate.OnChange(d.onAdmin))
}

// Server exposes the DNS server (stats, addresses).
func (d *Daemon) Server() *dnsserver.Server { return d.srv }

// State is the serving state.
func (d *Daemon) State() *State { return d.state.Load() }

// Registry holds the daemon's metrics.
func (d *Daemon) Registry() *prometheus.Registry { return d.reg }

// Start opens the DNS sockets, the control and metrics listeners, and
// starts watching admin_state until ctx ends.
func (d *Daemon) Start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ctx = ctx
	// Checks run before the sockets open, as gdnsd's initial round, so
	// the first answers already skip a dead site.
	st := d.monitorLocked(ctx, d.state.Load())
	d.state.Store(st)
	d.srv.Store(d.snapshot(st))
	d.signingSwapped(nil, st)
	if d.Health != nil {
		go d.followHealth(ctx, d.Health)
	}
	go d.sweepRRL(ctx)
	go d.sampleAnswers(ctx)
	if err := d.srv.Start(); err != nil {
		return err
	}
	d.udpReadersChanged()
	d.listeners = &listeners{d: d}
	if err := d.listeners.apply(st.Config); err != nil {
		d.srv.Shutdown(context.Background())
		return err
	}
	d.started = time.Now()
	if st.Config.Data != "" {
		cleanSets(st.Config.Data, "", d.log) // left by a stage or commit that died
	}
	d.runWatcher()
	d.watchKeysLocked(st.Config)
	d.startEtcdLocked(d.etcdStart)
	d.etcdStart = nil
	d.log.Info("serving", "zones", len(st.Zones.Zones()), "admin_state_entries", st.Admin.Len(),
		"config_digest", short(st.Config.Digest), "data_digest", short(st.DataDigest),
		"control", st.Config.Control, "control_tcp", st.Config.ControlTCP, "metrics", st.Config.Metrics, "cookies", cookieSource(d.srv.Snapshot()))
	d.warnAllDown(st)
	d.warnUnmatchedAdmin(nil, st)
	return nil
}

func (d *Daemon) runWatcher() {
	d.adminLive.Store(d.admin)
	if d.admin == nil {
		return
	}
	ctx, cancel := context.WithCancel(d.ctx)
	d.adminCancel = cancel
	w := d.admin
	go func() {
		// Run heals a watch it cannot set up or loses; it ends with ctx.
		if err := w.Run(ctx); err != nil {
			d.log.Error("admin_state watch stopped; forced states stay as they are", "err", err)
		}
	}()
}

// Reload re-reads the configuration and every file it names (zones, GeoIP
// databases, nets files, admin_state), validates the whole, and swaps it in
// atomically. Listen, control and metrics address changes open the new
// sockets before closing the old ones. On any error nothing changes.
//
// The new state is built without the state lock (seconds for a large or
// signed zone), so admin_state, etcd and health changes apply meanwhile
// and are carried into it when it is swapped in. Reloads and commits wait
// for each other: a commit during a reload's build would otherwise be
// reverted by the data the reload read before it.
func (d *Daemon) Reload() error {
	d.refreshAdmin()
	d.dataMu.Lock()
	defer d.dataMu.Unlock()
	start := time.Now()
	st, err := d.reload()
	d.noteReload(err)
	if err != nil {
		d.log.Error("reload failed; the previous state keeps serving", "err", err)
		return err
	}
	d.log.Info("reload complete", "zones", len(st.Zones.Zones()), "serials", serials(st),
		"config_digest", short(st.Config.Digest), "data_digest", short(st.DataDigest),
		"admin_state_entries", st.Admin.Len(), "took", time.Since(start).Round(time.Microsecond))
	return nil
}

// refreshAdmin re-reads the admin_state file and re-arms its directory
// watch, so a reload applies what a broken or missed watch did not, and
// heals the watch. It runs outside d.mu: the watcher applies a change
// through onAdmin, which takes it.
func (d *Daemon) refreshAdmin() {
	d.mu.Lock()
	w := d.admin
	d.mu.Unlock()
	if w != nil {
		_ = w.Reload() // a bad file is logged; the last good state stays
		w.Rearm()
	}
}

// reloadBuild is what a reload loaded and validated without the lock.
type reloadBuild struct {
	cfg     *Config
	st      *State
	etcdSet *etcdSettings
	watcher *adminstate.Watcher // the admin_state watcher the new state uses
}

func (d *Daemon) reload() (*State, error) {
	b, err := d.buildReload()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.applyReloadLocked(b)
}

// buildReload loads and validates everything a reload would serve, under
// d.dataMu but not d.mu.
func (d *Daemon) buildReload() (*reloadBuild, error) {
	d.mu.Lock()
	started, watcher := d.listeners != nil, d.admin
	d.mu.Unlock()
	if !started {
		return nil, errors.New("reload: the daemon is not started")
	}
	cfg, err := LoadConfig(d.path)
	if err != nil {
		return nil, err
	}
	if cfg.AdminState != d.state.Load().Config.AdminState {
		watcher = nil
		if cfg.AdminState != "" {
			if watcher, err = d.newWatcher(cfg.AdminState); err != nil {
				return nil, err
			}
		}
	}
	etcdSet, err := loadEtcd(cfg.Etcd)
	if err != nil {
		return nil, err
	}
	st, err := Build(cfg, adminOf(watcher), d.log)
	if err != nil {
		return nil, err
	}
	if _, err := readToken(cfg); err != nil {
		return nil, err
	}
	d.step("reload-built")
	return &reloadBuild{cfg: cfg, st: st, etcdSet: etcdSet, watcher: watcher}, nil
}

func adminOf(w *adminstate.Watcher) *adminstate.State {
	if w == nil {
		return adminstate.Empty("")
	}
	return w.Current()
}

// applyReloadLocked swaps in a built reload with the admin_state, etcd and
// health states of now, and moves the sockets and watchers to its
// configuration.
func (d *Daemon) applyReloadLocked(b *reloadBuild) (*State, error) {
	if d.shutDown {
		return nil, errors.New("reload: the daemon is shutting down")
	}
	cfg, old := b.cfg, d.state.Load()
	st := b.st
	if b.watcher != nil {
		if cur := b.watcher.Current(); cur != st.AdminFile { // changed while it was built
			st = st.WithAdmin(cur)
		}
	}
	if b.etcdSet != nil {
		// etcd's last state stays through a reload, even one that moves
		// to other etcd settings, until the new follower has read etcd.
		st = st.WithEtcd(old.AdminEtcd)
	}
	commitListeners, err := d.listeners.prepare(cfg)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(cfg.Listen, old.Config.Listen) || cfg.UDPSockets != old.Config.UDPSockets ||
		cfg.TCPIdleTimeout != old.Config.TCPIdleTimeout || cfg.MaxTCPClients != old.Config.MaxTCPClients ||
		cfg.MaxTCPClientsPerIP != old.Config.MaxTCPClientsPerIP || cfg.TCPClientIPv4Prefix != old.Config.TCPClientIPv4Prefix ||
		cfg.TCPClientIPv6Prefix != old.Config.TCPClientIPv6Prefix || cfg.UDPRcvBuf != old.Config.UDPRcvBuf {
		if err := d.srv.Rebind(serverConfig(cfg)); err != nil {
			commitListeners(false)
			return nil, err
		}
		d.udpReadersChanged()
	}
	commitListeners(true)
	d.swap(d.monitorLocked(d.ctx, st))
	d.watchKeysLocked(cfg)
	d.startEtcdLocked(b.etcdSet)
	if b.watcher != d.admin {
		if d.adminCancel != nil {
			d.adminCancel()
			d.adminCancel = nil
		}
		d.admin = b.watcher
		d.runWatcher()
	}
	return st, nil
}

func (d *Daemon) udpReadersChanged() {
	if d.OnUDPReaders != nil {
		d.OnUDPReaders(d.srv.BlockingUDPReaders())
	}
}

func (d *Daemon) swap(st *State) {
	st = d.withRRL(st)
	old := d.state.Swap(st)
	d.srv.Store(d.snapshot(st))
	d.signingSwapped(old, st)
	d.warnAllDown(st)
	d.warnUnmatchedAdmin(old, st)
}

// snapshot is st's answer path view, with this process's random cookie
// secret when cookies are on without cookie_secret_file.
func (d *Daemon) snapshot(st *State) *dnsserver.Snapshot {
	snap := st.SnapshotWith(&d.slots)
	if st.Config.Cookies && snap.Cookies == nil {
		d.cookieOnce.Do(func() {
			d.cookieRandom = randomCookies()
			d.log.Info("DNS cookies use a random secret made at start: servers behind one address need a shared cookie_secret_file to accept each other's cookies")
		})
		snap.Cookies = d.cookieRandom
	}
	return snap
}

func (d *Daemon) noteReload(err error) {
	now := time.Now().UnixNano()
	if err != nil {
		d.reloadFail.Add(1)
		d.lastReloadFail.Store(now)
		msg := err.Error()
		d.lastErr.Store(&msg)
		return
	}
	d.reloadOK.Add(1)
	d.lastReloadOK.Store(now)
	d.lastErr.Store(nil)
}

// onAdmin applies a new admin_state to the current state.
func (d *Daemon) onAdmin(_, new *adminstate.State) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur := d.state.Load()
	if cur.Config.AdminState != new.File {
		return // a watcher being replaced by a reload
	}
	d.swap(cur.WithAdmin(new))
}

// StageRequest is POST /v1/stage: the bundle, the id the client chose for
// it (so a stage whose answer was lost can still be aborted by that id), and
// the data digest the client's diff was computed against.
type StageRequest struct {
	ID     string `json:"id"`
	Before string `json:"before"`
	Bundle
}

// maxStageID bounds a client-chosen id; it only appears in logs and answers.
const maxStageID = 64

func checkStageID(id string) error {
	if id == "" {
		return errors.New("a staged bundle needs an id chosen by the client")
	}
	if len(id) > maxStageID {
		return fmt.Errorf("bundle id longer than %d characters", maxStageID)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("bundle id %q: only letters, digits, '-', '_' and '.' are allowed", id)
		}
	}
	return nil
}

// Stage stages b under a random id with no check of the data it replaces;
// the control API always goes through StageRequest with both.
func (d *Daemon) Stage(b *Bundle) (*StageResult, error) {
	idb := make([]byte, 8)
	rand.Read(idb)
	return d.StageRequest(&StageRequest{ID: hex.EncodeToString(idb), Bundle: *b})
}

// StageResult is what Stage reports.
type StageResult struct {
	ID     string     `json:"id"`
	Digest string     `json:"digest"`
	Zones  []ZoneInfo `json:"zones"`
}

// ConflictError is a Stage refused because another bundle is staged or the
// data changed since the client's diff, or a Commit refused because the
// server's data (its admin_state file) changed since the stage.
type ConflictError struct{ msg string }

func (e *ConflictError) Error() string { return e.msg }

// ErrNotStaged is a Commit or Abort for a bundle that is not staged.
var ErrNotStaged = errors.New("no such staged bundle (never staged, expired, or already committed or aborted)")

// Commit installs the staged bundle into the data directory and swaps in
// the state built from it, atomically for the answer path.
func (d *Daemon) Commit(id string) error {
	d.dataMu.Lock()
	defer d.dataMu.Unlock()
	d.mu.Lock()
	if gone := d.expireLocked(); gone != nil && gone.id == id {
		d.mu.Unlock()
		return fmt.Errorf("%w: bundle %s expired %s after staging; nothing changed, stage it again", ErrNotStaged, id, d.StageTimeout)
	}
	p := d.pending
	if p == nil || p.id != id {
		d.mu.Unlock()
		return ErrNotStaged
	}
	d.pending = nil
	p.timer.Stop()
	cur := d.state.Load()
	if cur.Config.Digest != p.state.Config.Digest {
		os.RemoveAll(p.dir)
		d.mu.Unlock()
		return errors.New("commit: authdns.yaml was reloaded since this bundle was staged; stage it again")
	}
	if err := d.checkUnchangedSinceStage(cur, p); err != nil {
		os.RemoveAll(p.dir)
		d.mu.Unlock()
		d.log.Error("commit refused", "id", id, "err", err)
		return err
	}
	start := time.Now()
	if err := d.installSet(cur, p); err != nil {
		cleanSets(cur.Config.Data, "", d.log)
		d.noteReload(err)
		d.mu.Unlock()
		d.log.Error("commit failed; the previous data set stays on disk and keeps serving", "id", id, "data", cur.Config.Data, "err", err)
		var conflict *ConflictError
		if errors.As(err, &conflict) {
			return err
		}
		return fmt.Errorf("commit: switching in the new data set at %s: %w", cur.Config.Data, err)
	}
	// Built at stage time: etcd may have changed since.
	st := d.monitorLocked(d.ctx, p.state.WithEtcd(cur.AdminEtcd))
	d.swap(st)
	d.noteReload(nil)
	w := d.admin
	d.mu.Unlock()
	d.log.Info("commit complete", "id", id, "digest", short(st.DataDigest), "serials", serials(st),
		"admin_state_entries", st.Admin.Len(), "took", time.Since(start).Round(time.Microsecond))
	if w != nil {
		w.Reload() // let the watcher see the installed admin_state now
		w.Rearm()  // and watch the directory that now holds it
	}
	return nil
}

// Abort drops the staged bundle with this id; nothing changes. Only the
// id's owner may abort: an abort without an id, or with another bundle's
// id, is refused, so a failed rollout never drops another operator's
// staged bundle.
func (d *Daemon) Abort(id string) error {
	if id == "" {
		return errors.New("abort needs the id of the staged bundle")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expireLocked()
	p := d.pending
	if p == nil || p.id != id {
		// The client may have given up on a stage this server is still
		// reading: remember the id so that stage is refused when it comes.
		d.rememberAbortLocked(id)
		return ErrNotStaged
	}
	d.log.Info("abort: staged bundle dropped", "id", p.id)
	d.dropPending()
	return nil
}

// expireLocked drops the staged bundle if it is older than StageTimeout and
// returns it (nil if nothing expired).
func (d *Daemon) expireLocked() *staged {
	p := d.pending
	if p == nil {
		return nil
	}
	age := d.clock().Sub(p.created)
	if age < d.StageTimeout {
		return nil
	}
	d.log.Warn("dropping a staged bundle nobody committed", "id", p.id, "age", age.Round(time.Second))
	d.dropPending()
	return p
}

// maxAborted bounds the ids remembered by rememberAbortLocked.
const maxAborted = 64

func (d *Daemon) rememberAbortLocked(id string) {
	now := d.clock()
	for k, t := range d.aborted {
		if now.Sub(t) >= d.StageTimeout || len(d.aborted) >= maxAborted {
			delete(d.aborted, k)
		}
	}
	if d.aborted == nil {
		d.aborted = map[string]time.Time{}
	}
	d.aborted[id] = now
}

// step calls the tests' failpoint, if any.
func (d *Daemon) step(name string) {
	if d.failpoint != nil {
		d.failpoint(name)
	}
}

func (d *Daemon) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}

func (d *Daemon) dropPending() {
	if p := d.pending; p != nil {
		p.timer.Stop()
		os.RemoveAll(p.dir)
		d.pending = nil
	}
}

// warnAllDown logs resources whose every DC is DOWN: they keep answering
// with their first DC, as gdnsd does, and an operator should know.
func (d *Daemon) warnAllDown(st *State) {
	if st.Geo == nil {
		return
	}
	states := st.States()
	for _, res := range st.Geo.Resources() {
		prefix := "geoip/" + res + "/"
		all, any := true, false
		for key, s := range states {
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			any = true
			if !strings.HasPrefix(s.State, "DOWN") {
				all = false
			}
		}
		if any && all {
			d.log.Warn("every datacenter of a resource is DOWN; answering with the first of each list as if all were up", "resource", res)
		}
	}
}

// Shutdown stops serving, bounded by ctx.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.mu.Lock()
	d.shutDown = true
	if d.listeners != nil {
		d.listeners.closeAll()
	}
	if d.adminCancel != nil {
		d.adminCancel()
	}
	d.dropPending()
	d.mu.Unlock()
	d.stopSigning()
	d.stopEtcd(ctx)
	return d.srv.Shutdown(ctx)
}

// Uptime since Start.
func (d *Daemon) Uptime() time.Duration { return time.Since(d.started) }

func serials(st *State) []string {
	var out []string
	for _, z := range st.Zones.Zones() {
		out = append(out, fmt.Sprintf("%s=%d", z.Name, z.Serial))
	}
	return out
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}
