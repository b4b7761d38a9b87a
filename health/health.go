// Package health monitors the health of addresses as gdnsd's service
// types do: each distinct (address, service type) pair is checked on its
// own schedule, its verdicts pass gdnsd's anti-flap state machine, and
// every change is published as an immutable Snapshot that readers (the
// DNS answer path, through a state swap) never wait for.
package health

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// MaxTTL is gdnsd's largest monitor TTL (2^28-1 s): a state expected to
// hold indefinitely. An answer's TTL is then clamped to its record's
// [MIN, MAX].
const MaxTTL = 1<<28 - 1

// Key names one monitored pair: gdnsd's monitor key `ADDRESS/SERVICE`,
// which admin_state globs match.
type Key struct {
	Addr    netip.Addr
	Service string // a service type's name
}

func (k Key) String() string { return k.Addr.String() + "/" + k.Service }

// State is the monitored state of one Key.
type State struct {
	Down bool
	// TTL is how long, in seconds, the state is expected to hold (gdnsd's
	// sttl TTL: interval × checks left before it could change); MaxTTL
	// for the built-in up and down types and for stable direct states.
	TTL       uint32
	LastCheck time.Time // zero before the first finished check
	LastError string    // why the last check failed; "" after a success
}

// Snapshot is every monitored state at one moment. It is immutable; the
// nil Snapshot holds nothing.
type Snapshot struct {
	gen    uint64
	states map[Key]State
}

// NewSnapshot returns a Snapshot of states (which it keeps: the caller
// must not change it afterwards), numbered gen.
func NewSnapshot(gen uint64, states map[Key]State) *Snapshot {
	return &Snapshot{gen: gen, states: states}
}

// Generation increases with every published change.
func (s *Snapshot) Generation() uint64 {
	if s == nil {
		return 0
	}
	return s.gen
}

// State is k's state; ok is false when k is not monitored.
func (s *Snapshot) State(k Key) (st State, ok bool) {
	if s == nil {
		return State{}, false
	}
	st, ok = s.states[k]
	return st, ok
}

// Keys lists the monitored keys, sorted.
func (s *Snapshot) Keys() []Key {
	if s == nil {
		return nil
	}
	keys := make([]Key, 0, len(s.states))
	for k := range s.states {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b Key) int {
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		return strings.Compare(a.Service, b.Service)
	})
	return keys
}

// Plugins are the monitoring plugins service_types may name (gdnsd's).
var Plugins = []string{"http_status", "tcp_connect", "extfile", "extmon", "static", "up", "down"}

// ServiceType is one entry of service_types, with gdnsd's defaults filled
// in. The built-in types `up` and `down` exist without being declared.
type ServiceType struct {
	Name   string
	Pos    conf.Pos
	Plugin string // one of Plugins

	Interval   time.Duration // 10 s
	Timeout    time.Duration // interval/2, whole seconds
	UpThresh   int           // 20: successes that bring a DOWN pair UP
	OKThresh   int           // 10: successes that clear past failures
	DownThresh int           // 10: failures that take an UP pair DOWN

	Port    uint16 // http_status (80), tcp_connect (required)
	URLPath string // http_status: "/"
	VHost   string // http_status: Host header; none by default
	OKCodes []int  // http_status: [200]

	File   string   // extfile: lines "ADDR => UP|DOWN[/TTL]"
	Cmd    []string // extmon: argv, %%ITEM%% replaced by the address
	Direct bool     // extfile, extmon: results are final, no anti-flap

	// State is static's fixed state ("UP" or "DOWN").
	State string
	// TTL is static's fixed TTL in seconds; 0 means MaxTTL.
	TTL uint32

	DefTTL  uint32 // extfile: an entry's TTL when it gives none (direct); 0 means MaxTTL
	DefDown bool   // extfile: the state of an address missing from the file
}

// Equal reports whether two service types check the same way, so a
// reload that keeps a pair's type keeps its state.
func (t *ServiceType) Equal(o *ServiceType) bool {
	if t == nil || o == nil {
		return t == o
	}
	a, b := *t, *o
	a.Pos, b.Pos = conf.Pos{}, conf.Pos{}
	return a.Name == b.Name && a.Plugin == b.Plugin && a.Interval == b.Interval && a.Timeout == b.Timeout &&
		a.UpThresh == b.UpThresh && a.OKThresh == b.OKThresh && a.DownThresh == b.DownThresh &&
		a.Port == b.Port && a.URLPath == b.URLPath && a.VHost == b.VHost && slices.Equal(a.OKCodes, b.OKCodes) &&
		a.File == b.File && slices.Equal(a.Cmd, b.Cmd) && a.Direct == b.Direct && a.State == b.State &&
		a.TTL == b.TTL && a.DefTTL == b.DefTTL && a.DefDown == b.DefDown
}

// Source is what authdns needs of a running health monitor.
type Source interface {
	// Set replaces what is monitored: the service types by name and the
	// pairs to check. A pair whose service type is unchanged (Equal)
	// keeps its state and schedule. New pairs get gdnsd's initial round:
	// one check each, in parallel, whose result is their state (no
	// anti-flap); Set returns once that round is over (bounded by the
	// longest timeout) and Snapshot holds every pair of keys.
	Set(ctx context.Context, types map[string]*ServiceType, keys []Key)
	// Snapshot is the states published last; never nil once Set ran.
	Snapshot() *Snapshot
	// Changed receives (without blocking the monitor, coalesced) after
	// every published change.
	Changed() <-chan struct{}
}
