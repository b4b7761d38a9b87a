package ipvs

import (
	"net/netip"
	"time"
)

// Drift is a change made to IPVS behind lvsd's back (ipvsadm by hand)
// between two reconciliations: the kernel no longer holds what the last
// one left. Reconcile undoes it like any other difference, and logs each
// repair at WARN with the change it undid and the op that restored the
// desired state, so an emergency ipvsadm -d that lvsd undoes is never
// silent.

// DriftRepair is one undone change.
type DriftRepair struct {
	// Undone is the change found, as the ipvsadm command that made it,
	// e.g. "-d -t 10.2.2.1:80 -r 10.64.0.5:80".
	Undone Op
	// Restored is the op lvsd applied to undo it.
	Restored Op
	At       time.Time
}

// DriftReport is the drift repairs since start: counts by the kind of the
// undone change ("-d", "-a", "-e", "-E", "-D") and the most recent ones,
// oldest first.
type DriftReport struct {
	Total  map[OpKind]uint64
	Recent []DriftRepair
}

// DriftReporter is a Director that reports drift repairs (both of
// lvsd's do).
type DriftReporter interface {
	Drift() DriftReport
}

// recentDrift is how many repairs DriftReport keeps.
const recentDrift = 20

type driftStats struct {
	total  map[OpKind]uint64
	recent []DriftRepair
}

// Drift implements DriftReporter.
func (r *reconciler) Drift() DriftReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := DriftReport{Total: map[OpKind]uint64{}, Recent: append([]DriftRepair(nil), r.stats.recent...)}
	for k, n := range r.stats.total {
		out.Total[k] = n
	}
	return out
}

// driftKey matches an undone change with the op of the plan that
// restores it: the same destination, or the service itself.
type driftKey struct {
	dest    bool
	service ServiceKey
	id      netip.AddrPort
}

func restoreKey(op Op) driftKey {
	switch op.Kind {
	case AddDest, EditDest, DeleteDest:
		return driftKey{dest: true, service: op.Service.Key, id: op.Destination.id()}
	}
	return driftKey{service: op.Service.Key}
}

// drift compares the kernel's copy of a service (cur, nil when missing)
// with what the last reconciliation left, and returns the changes found
// that plan undoes, by the key of the op that undoes them. A change that
// the desired state makes anyway (e.g. a server removed by hand that
// lvsd removes too) is not drift anyone needs to hear about. r.mu is held.
func (r *reconciler) drift(key ServiceKey, cur *Desired, plan []Op) map[driftKey]Op {
	last, ok := r.last[key]
	if !ok || len(plan) == 0 {
		return nil
	}
	var found []Op
	if cur == nil {
		found = []Op{{Kind: DeleteService, Service: last.Service}}
	} else {
		found = diff(*cur, &last)
	}
	if len(found) == 0 {
		return nil
	}
	restorers := map[driftKey]bool{}
	for _, op := range plan {
		restorers[restoreKey(op)] = true
	}
	out := map[driftKey]Op{}
	for _, u := range found {
		k := restoreKey(u)
		if u.Kind == DeleteService {
			k = restoreKey(Op{Kind: AddService, Service: last.Service})
		}
		if restorers[k] {
			out[k] = u
		}
	}
	return out
}

// repaired logs and counts one undone change; r.mu is held.
func (r *reconciler) repaired(undone, restored Op) {
	r.log.Warn("ipvs drift repaired: a change made outside lvsd was undone (use lvsd ctl depool, not ipvsadm)",
		"undone", undone.String(), "restored", restored.String(), "dry_run", r.dryRun)
	r.stats.total[undone.Kind]++
	r.stats.recent = append(r.stats.recent, DriftRepair{Undone: undone, Restored: restored, At: time.Now()})
	if n := len(r.stats.recent); n > recentDrift {
		r.stats.recent = r.stats.recent[n-recentDrift:]
	}
}
