package authdns

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/health"
)

// monitorLocked tells the health source what st needs checked (its
// service types and every address × service type pair of its resources)
// and returns st answering with the resulting snapshot. The source keeps
// the state of unchanged pairs, so a reload does not reset them; Set
// returns after the initial round of new pairs, as gdnsd checks every
// new monitor once before answering with it. Without a source st is
// returned as is (everything up). Called with d.mu held.
func (d *Daemon) monitorLocked(ctx context.Context, st *State) *State {
	if d.Health == nil {
		return st
	}
	start := time.Now()
	keys := st.HealthKeys()
	d.Health.Set(ctx, st.Config.ServiceTypes, keys)
	if len(keys) > 0 {
		d.log.Info("health checks set", "service_types", len(st.Config.ServiceTypes), "pairs", len(keys),
			"took", time.Since(start).Round(time.Millisecond))
	}
	return st.WithHealth(d.Health.Snapshot())
}

// followHealth swaps a new health view in after every change the source
// publishes, until ctx ends: the answer path then reads it like an
// admin_state change, with no lock and no lookup per address.
func (d *Daemon) followHealth(ctx context.Context, src health.Source) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-src.Changed():
		}
		d.mu.Lock()
		cur := d.state.Load()
		snap := src.Snapshot()
		if cur.Geo != nil && cur.Health.Snapshot() != snap {
			next := cur.WithHealth(snap)
			d.swap(next)
			d.healthSwaps.Add(1)
			d.logHealthChanges(cur, next)
		}
		d.mu.Unlock()
	}
}

// collectMonitored calls f with the monitored state of every DC of every
// resource that has service types.
func (d *Daemon) collectMonitored(st *State, f func(res, dc string, down bool)) {
	if st.Geo == nil {
		return
	}
	states := st.States()
	for _, res := range st.Geo.Resources() {
		r, _ := st.Geo.Resource(res)
		if !r.Monitored() {
			continue
		}
		for _, dc := range r.DCs() {
			f(res, dc, states["geoip/"+res+"/"+dc].RealState == "DOWN")
		}
	}
}

// logHealthChanges logs every resource, map and site whose monitored state
// differs between old and new, with the effective state (a forced state
// hides the change from answers, as gdnsd logs it).
func (d *Daemon) logHealthChanges(old, new *State) {
	before, after := old.States(), new.States()
	var keys []string
	for k, s := range after {
		if (strings.HasPrefix(k, "geoip/") || strings.HasPrefix(k, "site/")) && before[k].RealState != s.RealState {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := after[k]
		d.log.Info("health: monitored state changed", "key", k, "real_state", s.RealState, "state", s.State,
			"last_error", s.LastError)
	}
}
