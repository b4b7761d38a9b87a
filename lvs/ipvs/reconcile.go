package ipvs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
)

// kernel is the narrow view of IPVS the reconciler needs. The netlink client
// and the in-memory dry run implement it, so the diff logic is shared and
// unit-tested against the in-memory one. Every write goes through apply.
type kernel interface {
	services() ([]Service, error)
	destinations(ServiceKey) ([]DestinationStatus, error)
	apply(Op) error
	close() error
}

// schedulers are the IPVS schedulers lvsd accepts (PyBal's list).
var schedulers = map[string]bool{
	"rr": true, "wrr": true, "lc": true, "wlc": true, "lblc": true, "lblcr": true,
	"dh": true, "sh": true, "sed": true, "nq": true, "mh": true,
}

// ValidScheduler reports whether lvsd can program scheduler name; pybal.conf
// validation uses it too, so the two never disagree.
func ValidScheduler(name string) bool { return schedulers[name] }

// DefaultScheduler is used when a Service names none (ipvsadm's default).
const DefaultScheduler = "wlc"

// reconciler implements Director over a kernel.
type reconciler struct {
	k      kernel
	log    *slog.Logger
	dryRun bool

	mu sync.Mutex
	// unmanaged remembers the foreign services already logged, so each is
	// logged once rather than on every resync.
	unmanaged map[ServiceKey]bool
	// last is each service as the last reconciliation left it, so that a
	// difference found later is someone else's change (drift.go).
	last  map[ServiceKey]Desired
	stats driftStats
}

func newReconciler(k kernel, log *slog.Logger, dryRun bool) *reconciler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &reconciler{k: k, log: log, dryRun: dryRun, unmanaged: map[ServiceKey]bool{}, last: map[ServiceKey]Desired{},
		stats: driftStats{total: map[OpKind]uint64{}}}
}

// Reconcile implements Director. Invalid input is rejected before any write.
// A failing write is reported and the remaining services are still
// reconciled (one bad real server must not freeze the others); the returned
// ops are those that succeeded.
func (r *reconciler) Reconcile(ctx context.Context, desired []Desired) ([]Op, error) {
	want, err := normalize(desired)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()

	have, err := r.k.services()
	if err != nil {
		return nil, fmt.Errorf("ipvs: list services: %w", err)
	}
	haveByKey := make(map[ServiceKey]Service, len(have))
	for _, s := range have {
		haveByKey[s.Key] = s
	}
	r.noteUnmanaged(have, want)

	var ops []Op
	var errs []error
	for _, d := range want {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		plan, cur, err := r.plan(d, haveByKey)
		if err != nil {
			errs = append(errs, err)
			delete(r.last, d.Service.Key)
			continue
		}
		undone := r.drift(d.Service.Key, cur, plan)
		failed := false
		for _, op := range plan {
			if err := r.applyOp(op); err != nil {
				errs = append(errs, err)
				failed = true
				if op.Kind == AddService || op.Kind == EditService {
					break // its destination ops would fail or act on stale settings
				}
				continue
			}
			if u, ok := undone[restoreKey(op)]; ok {
				r.repaired(u, op)
			}
			ops = append(ops, op)
		}
		if failed {
			delete(r.last, d.Service.Key) // the kernel's state is unknown: no drift to tell
		} else {
			r.last[d.Service.Key] = d
		}
	}
	return ops, errors.Join(errs...)
}

// plan computes the ops that make the kernel's copy of one service match
// d, and returns the kernel's copy it started from (nil when the service
// is missing).
func (r *reconciler) plan(d Desired, have map[ServiceKey]Service) ([]Op, *Desired, error) {
	cur, ok := have[d.Service.Key]
	if !ok {
		return diff(d, nil), nil, nil
	}
	curDests, err := r.k.destinations(d.Service.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("ipvs: list destinations of %s: %w", d.Service.Key, err)
	}
	k := &Desired{Service: cur, Destinations: make([]Destination, 0, len(curDests))}
	for _, cd := range curDests {
		k.Destinations = append(k.Destinations, cd.Destination)
	}
	return diff(d, k), k, nil
}

// diff is the ops that turn cur (nil: no such service) into want.
// Additions come before edits and removals so a service being changed
// never passes through an empty state.
func diff(want Desired, cur *Desired) []Op {
	svc := want.Service
	if cur == nil {
		ops := []Op{{Kind: AddService, Service: svc}}
		for _, dst := range want.Destinations {
			ops = append(ops, Op{Kind: AddDest, Service: svc, Destination: dst})
		}
		return ops
	}
	var ops []Op
	if !sameSettings(cur.Service, svc) {
		ops = append(ops, Op{Kind: EditService, Service: svc})
	}
	curByID := make(map[netip.AddrPort]Destination, len(cur.Destinations))
	for _, cd := range cur.Destinations {
		curByID[cd.id()] = cd
	}
	var edits []Op
	for _, dst := range want.Destinations {
		cd, ok := curByID[dst.id()]
		delete(curByID, dst.id())
		switch {
		case !ok:
			ops = append(ops, Op{Kind: AddDest, Service: svc, Destination: dst})
		case !sameDest(cd, dst):
			edits = append(edits, Op{Kind: EditDest, Service: svc, Destination: dst})
		}
	}
	ops = append(ops, edits...)
	var dels []Destination
	for _, cd := range curByID {
		dels = append(dels, cd)
	}
	slices.SortFunc(dels, compareDest)
	for _, cd := range dels {
		ops = append(ops, Op{Kind: DeleteDest, Service: svc, Destination: cd})
	}
	return ops
}

func (r *reconciler) applyOp(op Op) error {
	if err := r.k.apply(op); err != nil {
		r.log.Error("ipvs op failed", "op", op.String(), "err", err)
		return fmt.Errorf("ipvs: %s: %w", op, err)
	}
	r.log.Info("ipvs op", "op", op.String(), "dry_run", r.dryRun)
	return nil
}

// noteUnmanaged logs, once each, the kernel's services that are not in the
// desired set; they are left alone (another tool, or a service dropped from
// the configuration that the caller chose not to remove).
func (r *reconciler) noteUnmanaged(have []Service, want []Desired) {
	managed := make(map[ServiceKey]bool, len(want))
	for _, d := range want {
		managed[d.Service.Key] = true
	}
	present := make(map[ServiceKey]bool, len(have))
	for _, s := range have {
		present[s.Key] = true
		if managed[s.Key] || r.unmanaged[s.Key] {
			continue
		}
		r.unmanaged[s.Key] = true
		r.log.Info("ipvs service not in the desired state, left alone", "service", s.Key.String(), "scheduler", s.Scheduler)
	}
	for k := range r.unmanaged {
		if !present[k] || managed[k] {
			delete(r.unmanaged, k) // log again if it comes back later
		}
	}
}

// RemoveService implements Director.
func (r *reconciler) RemoveService(ctx context.Context, key ServiceKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key.Addr = key.Addr.Unmap()
	r.mu.Lock()
	defer r.mu.Unlock()
	have, err := r.k.services()
	if err != nil {
		return fmt.Errorf("ipvs: list services: %w", err)
	}
	for _, s := range have {
		if s.Key == key {
			delete(r.unmanaged, key)
			delete(r.last, key)
			return r.applyOp(Op{Kind: DeleteService, Service: s})
		}
	}
	return nil
}

// Status implements Director: every service the kernel has, sorted, with
// its destinations and their connection counters.
func (r *reconciler) Status(ctx context.Context) ([]ServiceStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	have, err := r.k.services()
	if err != nil {
		return nil, fmt.Errorf("ipvs: list services: %w", err)
	}
	slices.SortFunc(have, func(a, b Service) int { return compareKey(a.Key, b.Key) })
	out := make([]ServiceStatus, 0, len(have))
	for _, s := range have {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ds, err := r.k.destinations(s.Key)
		if err != nil {
			return nil, fmt.Errorf("ipvs: list destinations of %s: %w", s.Key, err)
		}
		slices.SortFunc(ds, func(a, b DestinationStatus) int { return compareDest(a.Destination, b.Destination) })
		out = append(out, ServiceStatus{Service: s, Destinations: ds})
	}
	return out, nil
}

// Close implements Director.
func (r *reconciler) Close() error { return r.k.close() }

// sameSettings compares what lvsd manages of a service.
func sameSettings(a, b Service) bool {
	return a.Scheduler == b.Scheduler && a.OnePacket == b.OnePacket &&
		a.MHPort == b.MHPort && a.MHFallback == b.MHFallback
}

// sameDest compares what lvsd manages of a destination with the same identity.
func sameDest(cur, want Destination) bool {
	return cur.Weight == want.Weight && (cur.Forward == want.Forward || cur.Forward == Local)
}

func (d Destination) id() netip.AddrPort { return netip.AddrPortFrom(d.Addr, d.Port) }

func compareKey(a, b ServiceKey) int {
	return cmp.Or(cmp.Compare(a.Protocol, b.Protocol), a.Addr.Compare(b.Addr), cmp.Compare(a.Port, b.Port))
}

func compareDest(a, b Destination) int { return a.id().Compare(b.id()) }

// normalize validates desired and fills defaults: scheduler wlc, forwarding
// dr, destination port = service port when 0 or not NAT, IPv4-mapped IPv6
// unmapped.
// Destinations are sorted so ops come out in a stable order.
func normalize(desired []Desired) ([]Desired, error) {
	out := make([]Desired, 0, len(desired))
	seen := map[ServiceKey]bool{}
	for _, d := range desired {
		svc := d.Service
		svc.Key.Addr = svc.Key.Addr.Unmap()
		if svc.Scheduler == "" {
			svc.Scheduler = DefaultScheduler
		}
		if err := validService(svc); err != nil {
			return nil, err
		}
		if seen[svc.Key] {
			return nil, fmt.Errorf("ipvs: service %s: listed twice", svc.Key)
		}
		seen[svc.Key] = true
		dests := make([]Destination, 0, len(d.Destinations))
		ids := map[netip.AddrPort]bool{}
		for _, dst := range d.Destinations {
			dst.Addr = dst.Addr.Unmap()
			if dst.Forward == "" {
				dst.Forward = DirectRoute
			}
			// Direct routing and tunnelling do not rewrite the port, so
			// the real server's port is the VIP's, as ipvsadm forces it.
			if dst.Port == 0 || dst.Forward == DirectRoute || dst.Forward == Tunnel {
				dst.Port = svc.Key.Port
			}
			if err := validDest(svc, dst); err != nil {
				return nil, err
			}
			if ids[dst.id()] {
				return nil, fmt.Errorf("ipvs: service %s: real server %s listed twice", svc.Key, dst.id())
			}
			ids[dst.id()] = true
			dests = append(dests, dst)
		}
		slices.SortFunc(dests, compareDest)
		out = append(out, Desired{Service: svc, Destinations: dests})
	}
	return out, nil
}

func validService(s Service) error {
	k := s.Key
	switch {
	case k.Protocol != TCP && k.Protocol != UDP:
		return fmt.Errorf("ipvs: service %s: protocol %q is not tcp or udp", k, k.Protocol)
	case !k.Addr.IsValid():
		return fmt.Errorf("ipvs: service %s: no address", k)
	case k.Port == 0:
		return fmt.Errorf("ipvs: service %s: port 0", k)
	case !schedulers[s.Scheduler]:
		return fmt.Errorf("ipvs: service %s: unknown scheduler %q (want rr wrr lc wlc lblc lblcr dh sh sed nq mh)", k, s.Scheduler)
	case (s.MHPort || s.MHFallback) && s.Scheduler != "mh" && s.Scheduler != "sh":
		return fmt.Errorf("ipvs: service %s: mh-port/mh-fallback need scheduler mh, not %s", k, s.Scheduler)
	case s.OnePacket && k.Protocol != UDP:
		return fmt.Errorf("ipvs: service %s: ops (one-packet scheduling) is for UDP only", k)
	}
	return nil
}

func validDest(s Service, d Destination) error {
	switch {
	case !d.Addr.IsValid():
		return fmt.Errorf("ipvs: service %s: real server without address", s.Key)
	case d.Forward != DirectRoute && d.Forward != Tunnel && d.Forward != Masquerade:
		return fmt.Errorf("ipvs: service %s: real server %s: forwarding %q is not dr, tun or nat", s.Key, d.id(), d.Forward)
	case d.Addr.Is4() != s.Key.Addr.Is4() && d.Forward != Tunnel:
		// Only tunnelling can cross address families.
		return fmt.Errorf("ipvs: service %s: real server %s: address family differs from the VIP's", s.Key, d.id())
	}
	return nil
}
