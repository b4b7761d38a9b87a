package health

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/internal/filewatch"
	"github.com/geotraffic/geotraffic/vscf"
)

// extEntry is one line of an extfile: `ADDR => UP|DOWN[/TTL]`.
type extEntry struct {
	down   bool
	ttl    uint32
	hasTTL bool
}

// parseExtfile parses an extfile: a vscf hash (gdnsd's configuration
// language, as gdnsd reads it) of `ADDR => UP|DOWN[/TTL]`; keys are
// compared as written with the address's lowercased text. A key given
// twice, like any bad entry, rejects the whole file. $include is refused:
// the file is watched alone.
func parseExtfile(file string, data []byte) (map[string]extEntry, error) {
	root, err := vscf.ParseNoInclude(file, data)
	if err != nil {
		return nil, err
	}
	if root.Kind != vscf.Hash {
		return nil, root.Pos.Errorf("", "expected `ADDRESS => UP|DOWN[/TTL]` entries, got %s", root.Kind)
	}
	var errs conf.List
	out := make(map[string]extEntry, len(root.Pairs))
	for _, p := range root.Pairs {
		if p.Key == "" {
			errs.Addf(p.KeyPos, "", "empty key (expected an address)")
			continue
		}
		if p.Value.Kind != vscf.Scalar {
			errs.Addf(p.Value.Pos, "", "key %q: expected UP or DOWN[/TTL], got %s", p.Key, p.Value.Kind)
			continue
		}
		e, err := adminstate.ParseValue(p.Key, p.Value.Value)
		if err != nil {
			errs.Add(&conf.Error{Pos: p.Value.Pos, Reason: err.Error(), Err: err})
			continue
		}
		out[p.Key] = extEntry{down: e.Down, ttl: e.TTL, hasTTL: e.HasTTL}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// fileRunner reads one extfile service type's file for all its pairs.
type fileRunner struct {
	typ  *ServiceType
	stop context.CancelFunc
}

func (m *Monitor) startFileLocked(ctx context.Context, typ, cfg *ServiceType) {
	fctx, cancel := context.WithCancel(ctx)
	m.files[cfg.Name] = &fileRunner{typ: typ, stop: cancel}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.runFile(fctx, cfg)
	}()
}

// runFile reads cfg's file until ctx ends: in direct mode whenever it
// changes (and every interval, for changes a watch misses), otherwise
// every interval, each read being one event per pair.
func (m *Monitor) runFile(ctx context.Context, cfg *ServiceType) {
	read := func() { m.readFile(cfg, nil, false) }
	if cfg.Direct {
		w := filewatch.New(filewatch.Options{Files: []string{cfg.File}, Poll: cfg.Interval, Retry: cfg.Interval,
			Log: m.log, Name: "health: extfile " + cfg.Name, Changed: read, Check: read})
		_ = w.Run(ctx)
		return
	}
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			read()
		}
	}
}

// readFile reads cfg's file and gives each pair of only (nil: every pair
// of the type) its verdict. An address missing from the file gets
// def_down (and def_ttl); a file that cannot be read or parsed changes
// nothing.
func (m *Monitor) readFile(cfg *ServiceType, only []*mon, initial bool) {
	data, err := os.ReadFile(cfg.File)
	var entries map[string]extEntry
	if err == nil {
		entries, err = parseExtfile(cfg.File, data)
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.fileProblemLocked(cfg.Name, "health: extfile ignored, states kept", err)
		return
	}
	mons := only
	if mons == nil {
		for _, mo := range m.mons {
			if mo.key.Service == cfg.Name && mo.cfg.Equal(cfg) {
				mons = append(mons, mo)
			}
		}
	}
	var missing, ttlIgnored []string
	for _, mo := range mons {
		addr := strings.ToLower(mo.key.Addr.String())
		e, ok := entries[addr]
		v := verdict{at: now}
		if !ok {
			missing = append(missing, addr)
			e = extEntry{down: cfg.DefDown}
		}
		if e.down {
			v.err = "DOWN in " + cfg.File
			if !ok {
				v.err = "missing from " + cfg.File
			}
		}
		if cfg.Direct {
			v.direct, v.down, v.ttl = true, e.down, ttlOr(cfg.DefTTL)
			if e.hasTTL {
				v.ttl = e.ttl
			}
		} else {
			v.ok = !e.down
			if e.hasTTL {
				ttlIgnored = append(ttlIgnored, addr)
			}
		}
		m.applyLocked(mo, v, initial)
	}
	m.fileProblemLocked(cfg.Name, "health: extfile incomplete", entryProblems(cfg, missing, ttlIgnored))
}

// entryProblems describes the addresses an extfile misses and the TTLs it
// gives in monitor mode (where they are ignored), or is nil.
func entryProblems(cfg *ServiceType, missing, ttlIgnored []string) error {
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("%d address(es) missing, taken as %s: %s", len(missing), stateName(cfg.DefDown), firstFew(missing)))
	}
	if len(ttlIgnored) > 0 {
		errs = append(errs, fmt.Errorf("TTLs ignored without direct: %s", firstFew(ttlIgnored)))
	}
	return errors.Join(errs...)
}

func firstFew(l []string) string {
	if len(l) > 5 {
		return strings.Join(l[:5], ", ") + ", ..."
	}
	return strings.Join(l, ", ")
}

// fileProblemLocked logs an extfile's problem when it differs from the
// last one logged for that type, so a lasting problem is one line.
func (m *Monitor) fileProblemLocked(name, msg string, err error) {
	text := ""
	if err != nil {
		text = err.Error()
	}
	if m.fileLog[name] == text {
		return
	}
	m.fileLog[name] = text
	if err != nil {
		m.log.Warn(msg, "service_type", name, "err", text)
	}
}
