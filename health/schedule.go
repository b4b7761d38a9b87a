package health

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"time"
)

func randFloat() float64 { return rand.Float64() }

// startLocked starts the schedules of mons under ctx: per service type,
// monitor i of N first checks at i/N of the interval plus a jitter within
// its 1/N slot, so checks never fire in bursts. extfile types get one
// reader each.
func (m *Monitor) startLocked(ctx context.Context, mons []*mon) {
	byType := map[string][]*mon{}
	for _, mo := range mons {
		byType[mo.key.Service] = append(byType[mo.key.Service], mo)
	}
	for name, group := range byType {
		cfg := group[0].cfg
		if cfg.Plugin == "extfile" {
			if m.files[name] == nil {
				m.startFileLocked(ctx, group[0].typ, cfg)
			}
			continue
		}
		if !checks(cfg) {
			continue
		}
		slices.SortFunc(group, func(a, b *mon) int { return cmp.Compare(a.key.String(), b.key.String()) })
		for i, mo := range group {
			mctx, cancel := context.WithCancel(ctx)
			mo.stop = cancel
			m.wg.Add(1)
			go m.loop(mctx, mo, spread(i, len(group), cfg.Interval, m.jit()))
		}
	}
}

// spread is when monitor i of n first checks: in the i-th of n equal
// slots of the interval, at fraction j of it.
func spread(i, n int, interval time.Duration, j float64) time.Duration {
	slot := interval / time.Duration(n)
	return time.Duration(i)*slot + time.Duration(j*float64(slot))
}

// loop checks mo every interval until ctx ends. A round that comes while
// the previous check still runs is skipped: not an event.
func (m *Monitor) loop(ctx context.Context, mo *mon, first time.Duration) {
	defer m.wg.Done()
	next := time.Now().Add(first)
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, ok := m.checkFresh(ctx, mo)
		if !ok {
			return
		}
		m.mu.Lock()
		m.applyLocked(mo, v, false)
		m.mu.Unlock()
		now := time.Now()
		next = next.Add(mo.cfg.Interval)
		for !next.After(now) {
			next = next.Add(mo.cfg.Interval)
			m.met.skipped(mo.key.Service)
		}
		t.Reset(next.Sub(now))
	}
}

// checkFresh is check on a new goroutine. The runtime sizes a new
// goroutine's stack from the average it sees, while the long-lived
// schedule goroutine has its stack shrunk by the GC between checks and
// grown (copied) again by each one.
func (m *Monitor) checkFresh(ctx context.Context, mo *mon) (verdict, bool) {
	type result struct {
		v  verdict
		ok bool
	}
	done := make(chan result, 1)
	go func() {
		v, ok := m.check(ctx, mo)
		done <- result{v, ok}
	}()
	r := <-done
	return r.v, r.ok
}

// check runs one check of mo within its timeout, once one of the bounded
// slots is free; ok is false when ctx ended first.
func (m *Monitor) check(ctx context.Context, mo *mon) (v verdict, ok bool) {
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return verdict{}, false
	}
	defer func() { <-m.sem }()
	cctx, cancel := context.WithTimeout(ctx, mo.cfg.Timeout)
	defer cancel()
	start := time.Now()
	err := m.probe(cctx, mo.cfg, mo.key.Addr)
	v.at = time.Now()
	mo.latency.Observe(v.at.Sub(start).Seconds())
	if ctx.Err() != nil {
		return verdict{}, false
	}
	v.ok = err == nil
	if err != nil {
		v.err = err.Error()
	}
	if mo.cfg.Direct {
		v.direct, v.down, v.ttl = true, !v.ok, MaxTTL
	}
	return v, true
}
