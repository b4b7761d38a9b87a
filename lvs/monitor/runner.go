package monitor

import (
	"context"
	"fmt"
	"log/slog"
)

// Damper turns raw results into state changes: the state starts up (PyBal's
// optimistic start) and flips only after fall consecutive downs or rise
// consecutive ups. Rise = fall = 1 is PyBal's behaviour.
type Damper struct {
	Rise, Fall int
	up         bool
	started    bool
	streak     int
}

// Observe feeds one result and reports whether the damped state changed
// (the first result counts as a change when it confirms the optimistic
// state, so the coordinator hears every monitor at least once).
func (d *Damper) Observe(up bool) (state, changed bool) {
	if !d.started {
		d.started, d.up = true, true
		if up {
			return true, true
		}
	}
	if up == d.up {
		d.streak = 0
		return d.up, false
	}
	d.streak++
	need := d.Fall
	if up {
		need = d.Rise
	}
	if d.streak >= max(need, 1) {
		d.up, d.streak = up, 0
		return d.up, true
	}
	return d.up, false
}

// SeedDown starts the damper down instead of optimistically up, for a
// server known to be down (lvsd adopting the kernel's state after a
// restart); it has no effect once results came.
func (d *Damper) SeedDown() {
	if !d.started {
		d.started, d.up = true, false
	}
}

// Retune sets new rise/fall counts. The damped state stays; the streak
// starts again, since earlier results were judged by other rules.
func (d *Damper) Retune(rise, fall int) { d.Rise, d.Fall, d.streak = rise, fall, 0 }

// RunConfig ties a monitor to a server.
type RunConfig struct {
	Monitor    Monitor
	Target     Target
	Rise, Fall int
	Log        *slog.Logger
	Metrics    *Metrics
	// Status renders the server's current "enabled/up/pooled".
	Status func() string
	// OnChange hears damped state changes (and the first up).
	OnChange func(up bool, reason string)
}

// Run runs the monitor until ctx ends.
func Run(ctx context.Context, c RunConfig) {
	r := &reporter{c: c, damper: Damper{Rise: c.Rise, Fall: c.Fall}, ctx: ctx}
	c.Monitor.Run(ctx, c.Target, r)
}

type reporter struct {
	c      RunConfig
	damper Damper
	ctx    context.Context
}

func (r *reporter) Log(level slog.Level, msg string) {
	status := ""
	if r.c.Status != nil {
		status = r.c.Status()
	}
	r.c.Log.Log(r.ctx, level, fmt.Sprintf("[%s %s] %s (%s): %s", r.c.Target.Service, r.c.Monitor.Name(), r.c.Target.Host, status, msg))
}

func (r *reporter) Result(up bool, msg string) {
	if r.ctx.Err() != nil {
		return
	}
	r.c.Metrics.result(r.c.Target, r.c.Monitor.Name(), up)
	prev := r.damper.up || !r.damper.started
	state, changed := r.damper.Observe(up)
	if changed && state != prev {
		r.c.Metrics.transition(r.c.Target, r.c.Monitor.Name(), state)
	}
	if changed && r.c.OnChange != nil {
		r.c.OnChange(state, msg)
	}
}
