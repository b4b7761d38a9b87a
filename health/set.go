package health

import (
	"context"
	"strings"
	"sync"
)

// builtin are the types that exist without being declared.
var builtin = map[string]*ServiceType{
	"up":   {Name: "up", Plugin: "up"},
	"down": {Name: "down", Plugin: "down"},
}

// Set replaces what is monitored (see Source). A key whose service type
// is neither in types nor built in is logged and left out.
func (m *Monitor) Set(ctx context.Context, types map[string]*ServiceType, keys []Key) {
	m.setMu.Lock()
	defer m.setMu.Unlock()
	m.mu.Lock()
	fresh := m.replaceLocked(m.wanted(types, keys))
	m.mu.Unlock()

	m.initialRound(ctx, fresh)

	m.mu.Lock()
	if m.run != nil {
		m.startLocked(m.run, fresh)
	}
	m.mu.Unlock()
	m.publish(true)
}

// wanted maps each key to its service type.
func (m *Monitor) wanted(types map[string]*ServiceType, keys []Key) map[Key]*ServiceType {
	want := make(map[Key]*ServiceType, len(keys))
	for _, k := range keys {
		t := types[k.Service]
		if t == nil {
			t = builtin[k.Service]
		}
		if t == nil {
			m.log.Error("health: unknown service type, not monitored", "key", k.String())
			continue
		}
		want[k] = t
	}
	return want
}

// replaceLocked stops the pairs that are gone or whose type changed and
// returns the new pairs, registered with their default state (UP/MAX,
// DOWN/MAX for down) until their initial round reports.
func (m *Monitor) replaceLocked(want map[Key]*ServiceType) []*mon {
	for k, mo := range m.mons {
		t, ok := want[k]
		if ok && t.Equal(mo.typ) {
			continue
		}
		if mo.stop != nil {
			mo.stop()
		}
		delete(m.mons, k)
		delete(m.cur, k)
		m.met.forget(k)
	}
	for name, f := range m.files {
		if !f.typ.Equal(want0(want, name)) {
			f.stop()
			delete(m.files, name)
		}
	}
	var fresh []*mon
	for k, t := range want {
		if _, ok := m.mons[k]; ok {
			continue
		}
		mo := &mon{key: k, typ: t, cfg: withDefaults(t), up: m.met.up(k), latency: m.met.latency(k.Service)}
		m.mons[k] = mo
		m.cur[k] = State{Down: t.Plugin == "down", TTL: MaxTTL}
		mo.up.Set(b2f(t.Plugin != "down"))
		fresh = append(fresh, mo)
	}
	return fresh
}

// want0 is the service type named name among want's, or nil.
func want0(want map[Key]*ServiceType, name string) *ServiceType {
	for k, t := range want {
		if k.Service == name {
			return t
		}
	}
	return nil
}

// initialRound checks every fresh pair once, in parallel, and sets its
// state to the result (gdnsd's initial round: no anti-flap). A pair that
// does not report (a missing extfile, ctx ended) keeps its default.
func (m *Monitor) initialRound(ctx context.Context, fresh []*mon) {
	var wg sync.WaitGroup
	files := map[string][]*mon{}
	for _, mo := range fresh {
		switch {
		case checks(mo.cfg):
			wg.Go(func() {
				if v, ok := m.check(ctx, mo); ok {
					m.mu.Lock()
					m.applyLocked(mo, v, true)
					m.mu.Unlock()
				}
			})
		case mo.cfg.Plugin == "extfile":
			files[mo.key.Service] = append(files[mo.key.Service], mo)
		case mo.cfg.Plugin == "static":
			m.mu.Lock()
			m.applyLocked(mo, verdict{direct: true, down: strings.EqualFold(mo.cfg.State, "down"), ttl: ttlOr(mo.cfg.TTL)}, true)
			m.mu.Unlock()
		}
	}
	for _, group := range files {
		wg.Go(func() { m.readFile(group[0].cfg, group, true) })
	}
	wg.Wait()
}

// ttlOr is ttl, with 0 meaning MaxTTL.
func ttlOr(ttl uint32) uint32 {
	if ttl == 0 || ttl > MaxTTL {
		return MaxTTL
	}
	return ttl
}
