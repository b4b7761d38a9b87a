package ipvs

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
)

// NewDryRun returns a Director over an in-memory IPVS table: it reconciles
// exactly as the kernel Director does and logs every op in ipvsadm syntax,
// but touches nothing. It starts empty.
func NewDryRun(log *slog.Logger) Director {
	return newReconciler(newMemKernel(), log, true)
}

// memKernel is an in-memory IPVS table. It is as strict as the kernel
// (adding an existing entry or touching a missing one fails), so reconciler
// bugs surface in unit tests rather than as netlink errors.
type memKernel struct {
	mu   sync.Mutex
	svcs map[ServiceKey]*memService
}

type memService struct {
	svc   Service
	dests map[netip.AddrPort]DestinationStatus
}

func newMemKernel() *memKernel { return &memKernel{svcs: map[ServiceKey]*memService{}} }

func (m *memKernel) services() ([]Service, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Service, 0, len(m.svcs))
	for _, s := range m.svcs {
		out = append(out, s.svc)
	}
	return out, nil
}

func (m *memKernel) destinations(k ServiceKey) ([]DestinationStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.svcs[k]
	if !ok {
		return nil, fmt.Errorf("service %s: %w", k, errNoService)
	}
	out := make([]DestinationStatus, 0, len(s.dests))
	for _, d := range s.dests {
		out = append(out, d)
	}
	return out, nil
}

var (
	errNoService = errors.New("no such service")
	errNoDest    = errors.New("no such destination")
	errExists    = errors.New("already exists")
	errUnknownOp = errors.New("unknown op")
)

func (m *memKernel) apply(op Op) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := op.Service.Key
	s, ok := m.svcs[k]
	switch op.Kind {
	case AddService:
		if ok {
			return errExists
		}
		m.svcs[k] = &memService{svc: op.Service, dests: map[netip.AddrPort]DestinationStatus{}}
		return nil
	}
	if !ok {
		return errNoService
	}
	id := op.Destination.id()
	_, hasDest := s.dests[id]
	switch op.Kind {
	case EditService:
		s.svc = op.Service
	case DeleteService:
		delete(m.svcs, k)
	case AddDest:
		if hasDest {
			return errExists
		}
		s.dests[id] = DestinationStatus{Destination: op.Destination}
	case EditDest:
		if !hasDest {
			return errNoDest
		}
		d := s.dests[id]
		d.Destination = op.Destination
		s.dests[id] = d
	case DeleteDest:
		if !hasDest {
			return errNoDest
		}
		delete(s.dests, id)
	default:
		return fmt.Errorf("%w %q", errUnknownOp, op.Kind)
	}
	return nil
}

func (m *memKernel) close() error { return nil }
