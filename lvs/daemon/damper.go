package daemon

import (
	"context"
	"reflect"
	"sync"

	"github.com/geotraffic/geotraffic/lvs/monitor"
)

// The daemon keeps one monitor.Damper per server and monitor, outside the
// monitor, so a monitor restarted after an address change or a reload goes
// on from its last verdict instead of starting optimistic (one good result
// must not repool a down server when rise > 1).

// dampers holds a service's dampers by host and monitor; it is carried
// into the service that replaces it on reload.
type dampers struct {
	mu sync.Mutex
	m  map[string]map[string]*monitor.Damper
}

func newDampers() *dampers { return &dampers{m: map[string]map[string]*monitor.Damper{}} }

// observe feeds a result to host's damper for mon, creating it if needed.
func (ds *dampers) observe(host, mon string, rise, fall int, up bool) (state, changed bool) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	byMon := ds.m[host]
	if byMon == nil {
		byMon = map[string]*monitor.Damper{}
		ds.m[host] = byMon
	}
	d := byMon[mon]
	if d == nil {
		d = &monitor.Damper{Rise: rise, Fall: fall}
		byMon[mon] = d
	}
	return d.Observe(up)
}

// seedDown starts host's damper for mon down, unless it exists: a server
// adopted from the kernel as down needs rise good results to come up, as
// one known down does.
func (ds *dampers) seedDown(host, mon string, rise, fall int) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	byMon := ds.m[host]
	if byMon == nil {
		byMon = map[string]*monitor.Damper{}
		ds.m[host] = byMon
	}
	if byMon[mon] == nil {
		d := &monitor.Damper{Rise: rise, Fall: fall}
		d.SeedDown()
		byMon[mon] = d
	}
}

func (ds *dampers) forget(host string) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	delete(ds.m, host)
}

// retune adapts the dampers to a service's new monitors: removed monitors
// are forgotten; a monitor whose options or rise/fall changed keeps its
// verdict but restarts its streak (earlier results were judged by other
// rules); an unchanged one keeps everything.
func (ds *dampers) retune(oldSpecs, newSpecs []monitor.Spec, oldRise, oldFall, rise, fall int) {
	old := map[string]monitor.Spec{}
	for _, s := range oldSpecs {
		old[s.Name()] = s
	}
	cur := map[string]monitor.Spec{}
	for _, s := range newSpecs {
		cur[s.Name()] = s
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for _, byMon := range ds.m {
		for name, d := range byMon {
			spec, ok := cur[name]
			if !ok {
				delete(byMon, name)
				continue
			}
			if !reflect.DeepEqual(spec, old[name]) || rise != oldRise || fall != oldFall {
				d.Retune(rise, fall)
			}
		}
	}
}

// dampedMonitor runs a monitor with its raw results also fed to the
// daemon's persistent damper, whose changes alone reach the coordinator.
type dampedMonitor struct {
	monitor.Monitor
	onResult func(up bool, msg string)
}

func (m dampedMonitor) Run(ctx context.Context, t monitor.Target, r monitor.Reporter) {
	m.Monitor.Run(ctx, t, dampedReporter{Reporter: r, ctx: ctx, onResult: m.onResult})
}

type dampedReporter struct {
	monitor.Reporter
	ctx      context.Context
	onResult func(up bool, msg string)
}

func (r dampedReporter) Result(up bool, msg string) {
	r.Reporter.Result(up, msg) // result and transition metrics
	if r.ctx.Err() == nil {
		r.onResult(up, msg)
	}
}
