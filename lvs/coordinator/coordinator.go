// Package coordinator decides which real servers of one LVS service are
// pooled, with PyBal's model and depool threshold: each server is enabled
// (pool file), up (monitors) and pooled (decision); a down server is
// depooled only while enough servers stay up, else it stays pooled and is
// tracked as pooled-but-down until others come back.
package coordinator

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"sync"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/pool"
)

// Settings are the service-level inputs of a coordinator.
type Settings struct {
	Name            string
	Service         ipvs.Service
	Port            uint16 // real-server port
	Forward         ipvs.Forward
	DepoolThreshold float64
	DrainOnDepool   bool
	Monitors        []string // monitor names; none means always up
}

// Server is one real server's state.
type Server struct {
	Host    string
	Enabled bool
	Weight  uint32
	Addr    netip.Addr // valid once resolved
	Ready   bool       // resolved
	Up      bool
	Pooled  bool
	// Removed is a server no longer in the pool that the depool threshold
	// keeps pooled for now (see removed.go).
	Removed bool
	// Adopted is a server whose IPVS entry is still the kernel's from
	// before a restart, until its first check (see adopt.go).
	Adopted bool
	// Manual is the operator's manual depool in force, nil when none
	// (see manual.go); Enabled is then false whatever the pool says.
	Manual *Manual
	// Checks are the monitors' verdicts and last results (in copies
	// only: Snapshot and Server fill them in).
	Checks []Check
	// monitors holds each monitor's last (damped) verdict.
	monitors    map[string]bool
	poolEnabled bool                   // the pool's flag; Enabled is it unless manually depooled
	checks      map[string]checkRecord // by monitor
	keptLogged  bool                   // "Keeping removed server" was logged
	adopting    bool                   // of the first pool after a restart: adopts on resolution
	adoption    *adoption
}

// TextStatus is PyBal's "enabled/up/pooled" rendering.
func (s *Server) TextStatus() string {
	e, u, p := "disabled", "down", "not pooled"
	if s.Enabled {
		e = "enabled"
	}
	if s.Up {
		u = "up"
	} else if !s.Ready {
		u = "partial"
	}
	if s.Pooled {
		p = "pooled"
	}
	return e + "/" + u + "/" + p
}

// Coordinator holds one service's servers. It is safe for concurrent use.
type Coordinator struct {
	mu      sync.Mutex
	set     Settings
	servers map[string]*Server
	// pooledDown holds the servers pooled only because the depool
	// threshold needs them: enabled ones that are down (PyBal's
	// pooledDownServers) and disabled ones (held; an lvsd addition).
	pooledDown map[string]bool
	log        *slog.Logger
	metrics    *Metrics
	notify     func()
	zeroWeight bool // in the no-capacity state (logged on change)
	// forgotten are removed servers let go since the last done, for
	// onForget.
	forgotten []string
	onForget  func(hosts []string)
	// leaving are the removed servers kept for the threshold (lazily
	// cleaned: see removedServers), so settling them costs nothing
	// when there are none.
	leaving map[string]bool
	// kernel is the service's destinations at start-up (Adopt), nil
	// when there is nothing to adopt.
	kernel map[netip.Addr]uint32
	// manual are the manual depools in force, by host (manual.go).
	manual map[string]Manual
}

// New returns a coordinator; notify is called (without the lock held)
// after every change of the desired IPVS state or of server states.
func New(set Settings, log *slog.Logger, m *Metrics, notify func()) *Coordinator {
	c := &Coordinator{set: set, servers: map[string]*Server{}, pooledDown: map[string]bool{}, log: log, metrics: m, notify: notify}
	if m != nil {
		m.depoolThreshold.WithLabelValues(set.Name).Set(set.DepoolThreshold)
	}
	c.updateMetrics()
	return c
}

// Settings returns the coordinator's settings.
func (c *Coordinator) Settings() Settings { return c.set }

func (c *Coordinator) logf(level slog.Level, format string, args ...any) {
	c.log.Log(context.Background(), level, fmt.Sprintf("["+c.set.Name+"] "+format, args...))
}

// done settles what the threshold no longer needs (pooled-but-down
// servers, e.g. one re-enabled while down; held disabled and kept removed
// ones), updates metrics and notifies; called at the end of every
// mutation.
func (c *Coordinator) done() {
	c.depoolPooledDown()
	c.releaseHeld()
	c.releaseRemoved()
	c.checkCapacity()
	c.updateMetrics()
	forgotten, onForget := c.takeForgotten()
	c.mu.Unlock()
	if len(forgotten) > 0 && onForget != nil {
		onForget(forgotten)
	}
	if c.notify != nil {
		c.notify()
	}
}

// UpdatePool applies a new pool: new hosts are added (not ready until
// resolved), existing ones merged, missing ones removed. Neither a
// disabled server (see ensureDepoolThreshold) nor a removed one (see
// removed.go) leaves IPVS beyond what the depool threshold allows, so no
// pool change can empty a service. It returns the added hosts and those
// removed at once, so the caller can start and stop their resolution and
// monitors; removed servers kept for the threshold are told to OnForget's
// function when they leave.
func (c *Coordinator) UpdatePool(p pool.Pool) (added, removed []string) {
	c.mu.Lock()
	first := len(c.servers) == 0
	wasPooled := map[string]bool{}
	for h, s := range c.servers {
		wasPooled[h] = s.Pooled
	}
	for _, host := range p.Hosts() {
		e := p[host]
		s, ok := c.servers[host]
		if !ok {
			// Not up until resolved (PyBal's up = False before DNS): an
			// unresolved host counts in the total but never as capacity.
			s = &Server{Host: host, Enabled: c.effectiveEnabled(host, e.Enabled), poolEnabled: e.Enabled, Weight: e.Weight,
				monitors: map[string]bool{}, adopting: first && c.kernel != nil}
			if _, ok := c.manual[host]; ok {
				c.applyManual(s)
			}
			for _, m := range c.set.Monitors {
				s.monitors[m] = true // optimistic start, as PyBal
			}
			c.servers[host] = s
			added = append(added, host)
			if !first {
				c.logf(slog.LevelInfo, "New %s server %s, weight %d", enabledWord(s.Enabled), host, s.Weight)
			}
			continue
		}
		en := c.effectiveEnabled(host, e.Enabled)
		changed := s.Enabled != en || s.Weight != e.Weight || s.Removed
		s.Enabled, s.poolEnabled, s.Weight, s.Removed, s.keptLogged = en, e.Enabled, e.Weight, false, false
		switch {
		case s.Enabled && s.Ready && s.Up:
			s.Pooled = true
			delete(c.pooledDown, host)
		case c.pooledDown[host] && s.Ready:
			s.Pooled = true // down or disabled: stays pooled until the threshold allows
		default:
			s.Pooled = false
			delete(c.pooledDown, host)
		}
		if changed { // not the unchanged rest of the pool: 10,000 lines per change at 10,000 nodes
			c.logf(slog.LevelInfo, "Merged %s server %s, weight %d", enabledWord(s.Enabled), host, s.Weight)
		}
	}
	if first && len(added) > 0 {
		en := 0
		for _, s := range c.servers {
			if s.Enabled {
				en++
			}
		}
		c.logf(slog.LevelInfo, "Added %d server(s): %d enabled server(s) and %d disabled server(s)", len(c.servers), en, len(c.servers)-en)
	}
	for host := range c.servers {
		if _, ok := p[host]; !ok && c.removeFromPool(host) {
			removed = append(removed, host)
		}
	}
	sort.Strings(removed)
	c.ensureDepoolThreshold(wasPooled)
	c.done()
	return added, removed
}

func enabledWord(e bool) string {
	if e {
		return "enabled"
	}
	return "disabled"
}

// SetResolved records a host's address. A host that becomes ready is up
// as far as its monitors know (optimistic until they report, as PyBal)
// and pooled if enabled and up.
func (c *Coordinator) SetResolved(host string, addr netip.Addr) {
	c.mu.Lock()
	s, ok := c.servers[host]
	if !ok {
		c.mu.Unlock()
		return
	}
	if s.Ready && s.Addr == addr {
		c.mu.Unlock()
		return
	}
	if s.Ready {
		c.logf(slog.LevelInfo, "Server %s changed address from %s to %s", host, s.Addr, addr)
	}
	wasReady := s.Ready
	s.Addr, s.Ready = addr, true
	if !wasReady {
		c.seedAdopted(s)
		s.Up = allUp(s.monitors)
		if s.Enabled && s.Up {
			s.Pooled = true
		}
		c.ensureDepoolThreshold(nil)
	}
	c.done()
}

// SetUnresolved records a failed resolution. A host that never resolved
// stays out of the pool; a resolved one keeps its last address (a DNS
// outage must not depool a healthy service).
func (c *Coordinator) SetUnresolved(host string, err error) {
	c.mu.Lock()
	s, ok := c.servers[host]
	if !ok {
		c.mu.Unlock()
		return
	}
	if s.Ready {
		c.logf(slog.LevelWarn, "Could not re-resolve server %s, keeping address %s: %v", host, s.Addr, err)
	} else {
		c.logf(slog.LevelError, "Initialization failed for server %s, not pooled, will retry: %v", host, err)
	}
	c.mu.Unlock()
}

// MonitorResult applies a monitor's (damped) verdict for a host; callers
// pass only changes of that monitor's state.
func (c *Coordinator) MonitorResult(host, monitor string, up bool, reason string) {
	c.mu.Lock()
	s, ok := c.servers[host]
	if !ok {
		c.mu.Unlock()
		return
	}
	if m := c.metrics; m != nil {
		m.monitorStatus.WithLabelValues(c.set.Name, host, monitor).Set(b2f(up))
	}
	s.monitors[monitor] = up
	if !up {
		c.logf(slog.LevelError, "Monitoring instance %s reports server %s (%s) down: %s", monitor, host, s.TextStatus(), orUnknown(reason))
		if s.Up {
			s.Up = false
			if s.Pooled {
				c.depool(s)
			}
		}
		c.done()
		return
	}
	if !s.Up && s.Ready && allUp(s.monitors) {
		c.logf(slog.LevelInfo, "Server %s (%s) is up", host, s.TextStatus())
		s.Up = true
		if s.Enabled && s.Ready {
			c.repool(s)
		}
	}
	c.done()
}

func allUp(monitors map[string]bool) bool {
	for _, v := range monitors {
		if !v {
			return false
		}
	}
	return true
}

func orUnknown(r string) string {
	if r == "" {
		return "(reason unknown)"
	}
	return r
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Desired is the IPVS state for this service: every pooled server at its
// weight and, with drain-on-depool, every other resolved server at weight
// 0 (connections kept, no new ones).
func (c *Coordinator) Desired() ipvs.Desired {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := ipvs.Desired{Service: c.set.Service, Destinations: []ipvs.Destination{}}
	seen := map[netip.Addr]bool{}
	for _, h := range sortedKeys(c.servers) {
		s := c.servers[h]
		if !s.Ready || seen[s.Addr] {
			continue // two names for one address: IPVS has one destination
		}
		if w, present, ok := c.adoptedDest(s); ok {
			if present { // the kernel's entry, until the first check
				seen[s.Addr] = true
				d.Destinations = append(d.Destinations, ipvs.Destination{Addr: s.Addr, Port: c.set.Port, Weight: w, Forward: c.set.Forward})
			}
			continue
		}
		w := s.Weight
		if !s.Pooled {
			if !c.set.DrainOnDepool {
				continue
			}
			w = 0
		}
		seen[s.Addr] = true
		d.Destinations = append(d.Destinations, ipvs.Destination{Addr: s.Addr, Port: c.set.Port, Weight: w, Forward: c.set.Forward})
	}
	return d
}

// HasPooledUp reports whether some server is pooled and up (for BGP
// withdraw-on-down).
func (c *Coordinator) HasPooledUp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.servers {
		if s.Pooled && s.Up {
			return true
		}
	}
	return false
}

// Snapshot is a copy of the state for reporting.
type Snapshot struct {
	Name       string
	Servers    []Server // sorted by host
	PooledDown []string // sorted: pooled but down (PyBal's pooledDownServers)
	// Held are the disabled servers kept pooled because the threshold
	// needs them, sorted.
	Held []string
	// Removed are the servers no longer in the pool that the threshold
	// keeps pooled, sorted.
	Removed []string
	// Service is the IPVS service (VIP, scheduler, flags).
	Service         ipvs.Service
	DepoolThreshold float64
	CanDepool       bool
	// Headroom is how many more up and enabled servers may go down and
	// still be depooled (0: the next one down stays pooled).
	Headroom int
	// PooledWeight is the sum of the pooled servers' weights; 0 with
	// servers in the pool means no new connection can be served.
	PooledWeight uint64
}

// Snapshot copies the current state.
func (c *Coordinator) Snapshot() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	down, held := c.downAndHeld()
	snap := Snapshot{Name: c.set.Name, Service: c.set.Service, DepoolThreshold: c.set.DepoolThreshold, CanDepool: c.canDepool(),
		Headroom: c.headroom(), PooledDown: down, Held: held, Removed: c.removedKept(), PooledWeight: c.pooledWeight()}
	for _, h := range sortedKeys(c.servers) {
		snap.Servers = append(snap.Servers, c.copyOf(c.servers[h]))
	}
	return snap
}

// copyOf copies a server for reporting, without its internal state;
// c.mu is held.
func (c *Coordinator) copyOf(s *Server) Server {
	cp := *s
	cp.Checks = s.report(c.set.Monitors)
	cp.monitors, cp.checks, cp.adoption = nil, nil, nil
	if s.Manual != nil {
		m := *s.Manual
		cp.Manual = &m
	}
	return cp
}

// Server returns a copy of one server's state.
func (c *Coordinator) Server(host string) (Server, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.servers[host]
	if !ok {
		return Server{}, false
	}
	return c.copyOf(s), true
}

// Close drops the service's metric series (service removed on reload).
func (c *Coordinator) Close() {
	if c.metrics != nil {
		c.metrics.forget(c.set.Name)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
