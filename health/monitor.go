package health

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxChecks bounds the checks running at once when Options leave
// MaxChecks zero.
const DefaultMaxChecks = 1000

// publishSpacing is the least time between two publications of changed
// states: a burst of verdicts costs one copy of the table, and a verdict
// still reaches readers well within 100 ms.
const publishSpacing = 10 * time.Millisecond

// infoEvery is how often a Snapshot refreshes LastCheck and LastError
// when no state or TTL changed.
const infoEvery = time.Second

// Options configure a Monitor; zero values pick the defaults.
type Options struct {
	Logger *slog.Logger // slog.Default()
	// Registerer gets the authdns_health_* series; nil keeps them
	// unregistered.
	Registerer prometheus.Registerer
	// MaxChecks bounds the checks running at once (DefaultMaxChecks). A
	// check that waits past its next round skips that round, as gdnsd
	// skips a round whose previous check still runs.
	MaxChecks int
}

// Monitor checks every monitored pair on its schedule and publishes their
// states; it implements Source. Set may be called before and while Run
// runs.
type Monitor struct {
	log   *slog.Logger
	met   *metrics
	probe prober
	jit   func() float64 // in [0, 1): where in its slot a schedule starts
	sem   chan struct{}

	setMu sync.Mutex // one Set at a time

	mu      sync.Mutex
	mons    map[Key]*mon
	cur     map[Key]State
	files   map[string]*fileRunner // extfile service types, by name
	fileLog map[string]string      // the last problem logged per extfile type
	run     context.Context        // Run's; nil while Run is not running
	wg      sync.WaitGroup         // Run's schedules
	dirty   bool                   // a Down or TTL changed since the last publication
	stale   bool                   // a LastCheck or LastError did
	gen     uint64

	snap    atomic.Pointer[Snapshot]
	changed chan struct{}
	kick    chan struct{} // dirty was set
}

// mon is one monitored pair.
type mon struct {
	key     Key
	typ     *ServiceType // as Set gave it, for Equal
	cfg     *ServiceType // typ with defaults
	sm      machine
	stop    context.CancelFunc // ends its schedule; nil when none runs
	up      prometheus.Gauge
	latency prometheus.Observer
}

// verdict is one check's outcome.
type verdict struct {
	ok     bool
	err    string    // why not ok
	at     time.Time // when the check ended
	direct bool      // down and ttl are final: no anti-flap
	down   bool
	ttl    uint32
}

var _ Source = (*Monitor)(nil)

// New returns a Monitor with nothing to monitor.
func New(o Options) *Monitor {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxChecks <= 0 {
		o.MaxChecks = DefaultMaxChecks
	}
	return &Monitor{
		log: o.Logger, met: newMetrics(o.Registerer), probe: probeOnce, jit: randFloat,
		sem:  make(chan struct{}, o.MaxChecks),
		mons: map[Key]*mon{}, cur: map[Key]State{}, files: map[string]*fileRunner{}, fileLog: map[string]string{},
		changed: make(chan struct{}, 1), kick: make(chan struct{}, 1),
	}
}

// Snapshot is the states published last; nil before the first Set.
func (m *Monitor) Snapshot() *Snapshot { return m.snap.Load() }

// Changed receives after a publication: at once (coalesced) when a state
// or TTL changed, and at most once a second when only LastCheck or
// LastError did.
func (m *Monitor) Changed() <-chan struct{} { return m.changed }

// Run runs the schedules until ctx ends, then returns nil.
func (m *Monitor) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.run != nil {
		m.mu.Unlock()
		return errors.New("health: the monitor is already running")
	}
	m.run = ctx
	m.startLocked(ctx, mapsValues(m.mons))
	m.mu.Unlock()

	m.publishLoop(ctx)

	m.mu.Lock()
	m.run = nil
	for _, mo := range m.mons {
		mo.stop = nil
	}
	clear(m.files)
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}

// publishLoop publishes changes until ctx ends.
func (m *Monitor) publishLoop(ctx context.Context) {
	tick := time.NewTicker(infoEvery)
	defer tick.Stop()
	spacing := time.NewTimer(0)
	defer spacing.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.kick:
			m.publish(false)
			spacing.Reset(publishSpacing)
			select {
			case <-ctx.Done():
				return
			case <-spacing.C:
			}
		case <-tick.C:
			m.publish(false)
		}
	}
}

// publish swaps in a Snapshot of the current states if any changed (or
// always, when force) and tells Changed without waiting for a reader.
func (m *Monitor) publish(force bool) {
	m.mu.Lock()
	if !force && !m.dirty && !m.stale {
		m.mu.Unlock()
		return
	}
	m.gen++
	m.snap.Store(NewSnapshot(m.gen, maps.Clone(m.cur)))
	m.dirty, m.stale = false, false
	m.mu.Unlock()
	select {
	case m.changed <- struct{}{}:
	default: // a notification is pending; it covers this one
	}
}

// applyLocked records v as mo's verdict: at once in direct mode and in
// the initial round, through the anti-flap machine otherwise.
func (m *Monitor) applyLocked(mo *mon, v verdict, initial bool) {
	if m.mons[mo.key] != mo {
		return // removed or replaced while it was checked
	}
	prev := m.cur[mo.key]
	var ttl uint32
	switch {
	case v.direct:
		mo.sm = machine{down: v.down}
		ttl = v.ttl
	case initial:
		mo.sm = machine{down: !v.ok}
		ttl = mo.sm.ttl(mo.cfg)
	default:
		ttl = mo.sm.event(mo.cfg, v.ok)
	}
	st := State{Down: mo.sm.down, TTL: ttl, LastCheck: v.at, LastError: v.err}
	m.cur[mo.key] = st
	if st.Down != prev.Down || st.TTL != prev.TTL {
		m.dirty = true
		select {
		case m.kick <- struct{}{}:
		default:
		}
	} else {
		m.stale = true
	}
	mo.up.Set(b2f(!st.Down))
	switch {
	case initial && st.Down:
		m.log.Info("health: initial state", "key", mo.key.String(), "state", stateName(true), "reason", st.LastError)
	case !initial && st.Down != prev.Down:
		m.met.transition(mo.key, st.Down)
		m.log.Info("health: state changed", "key", mo.key.String(), "from", stateName(prev.Down), "to", stateName(st.Down), "reason", reason(st))
	}
}

// reason explains a state for the transition log line.
func reason(st State) string {
	if st.LastError != "" {
		return st.LastError
	}
	return "check succeeded"
}

func stateName(down bool) string {
	if down {
		return "DOWN"
	}
	return "UP"
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func mapsValues(ms map[Key]*mon) []*mon {
	out := make([]*mon, 0, len(ms))
	for _, mo := range ms {
		out = append(out, mo)
	}
	return out
}
