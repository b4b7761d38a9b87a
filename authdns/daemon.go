package authdns

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/dnsserver"
)

// Daemon is a running authdns: sockets, the serving state, and the loops
// that replace it. Its lifecycle is New → Start → (Reload)* → Shutdown.
type Daemon struct {
	path  string
	log   *slog.Logger
	srv   *dnsserver.Server
	admin *adminstate.Watcher

	mu    sync.Mutex // serialises state changes (reload vs admin_state)
	state atomic.Pointer[State]

	started time.Time
}

// New loads and validates everything; it opens no sockets.
func New(path string, log *slog.Logger) (*Daemon, error) {
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	d := &Daemon{path: path, log: log}
	admin := adminstate.Empty("")
	if cfg.AdminState != "" {
		d.admin, err = adminstate.NewWatcher(cfg.AdminState, log, adminstate.OnChange(d.onAdmin))
		if err != nil {
			return nil, err
		}
		admin = d.admin.Current()
	}
	st, err := Build(cfg, admin, log)
	if err != nil {
		return nil, err
	}
	d.state.Store(st)
	d.srv = dnsserver.New(dnsserver.Config{
		Listen: cfg.Listen, UDPSockets: cfg.UDPSockets,
		TCPIdleTimeout: cfg.TCPIdleTimeout, MaxTCPClients: cfg.MaxTCPClients,
	}, st.Snapshot(), log)
	return d, nil
}

// Server exposes the DNS server (stats, addresses).
func (d *Daemon) Server() *dnsserver.Server { return d.srv }

// State is the serving state.
func (d *Daemon) State() *State { return d.state.Load() }

// Start opens the sockets and starts watching admin_state until ctx ends.
func (d *Daemon) Start(ctx context.Context) error {
	if err := d.srv.Start(); err != nil {
		return err
	}
	d.started = time.Now()
	if d.admin != nil {
		go func() {
			if err := d.admin.Run(ctx); err != nil {
				d.log.Error("admin_state watch stopped; forced states stay as they are", "err", err)
			}
		}()
	}
	st := d.state.Load()
	d.log.Info("serving", "zones", len(st.Zones.Zones()), "admin_state_entries", st.Admin.Len())
	d.warnAllDown(st)
	return nil
}

// Reload re-reads the configuration and every file it names, validates the
// whole, and swaps it in; on any error the running state stays.
func (d *Daemon) Reload() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	start := time.Now()
	cfg, err := LoadConfig(d.path)
	if err == nil {
		old := d.state.Load().Config
		if !slices.Equal(cfg.Listen, old.Listen) || cfg.UDPSockets != old.UDPSockets {
			err = fmt.Errorf("%s: listen addresses changed; restart authdns to apply them", d.path)
		}
	}
	var st *State
	if err == nil {
		admin := adminstate.Empty("")
		if d.admin != nil {
			if cfg.AdminState != d.admin.Path() {
				err = fmt.Errorf("%s: admin_state path changed; restart authdns to apply it", d.path)
			} else {
				admin = d.admin.Current()
			}
		}
		if err == nil {
			st, err = Build(cfg, admin, d.log)
		}
	}
	if err != nil {
		d.log.Error("reload failed; the previous state keeps serving", "err", err)
		return err
	}
	d.state.Store(st)
	d.srv.Store(st.Snapshot())
	var serials []string
	for _, z := range st.Zones.Zones() {
		serials = append(serials, fmt.Sprintf("%s=%d", z.Name, z.Serial))
	}
	d.log.Info("reload complete", "zones", len(serials), "serials", serials, "took", time.Since(start).Round(time.Microsecond))
	return nil
}

// onAdmin applies a new admin_state to the current state.
func (d *Daemon) onAdmin(_, new *adminstate.State) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.state.Load().WithAdmin(new)
	d.state.Store(st)
	d.srv.Store(st.Snapshot())
	d.warnAllDown(st)
}

// warnAllDown logs resources whose every DC is DOWN: they keep answering
// with their first DC, as gdnsd does, and an operator should know.
func (d *Daemon) warnAllDown(st *State) {
	if st.Geo == nil {
		return
	}
	states := st.States()
	for _, res := range st.Geo.Resources() {
		prefix := "geoip/" + res + "/"
		all, any := true, false
		for key, s := range states {
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			any = true
			if !strings.HasPrefix(s.State, "DOWN") {
				all = false
			}
		}
		if any && all {
			d.log.Warn("every datacenter of a resource is DOWN; answering with the first of each list as if all were up", "resource", res)
		}
	}
}

// Shutdown stops serving, bounded by ctx.
func (d *Daemon) Shutdown(ctx context.Context) error {
	return d.srv.Shutdown(ctx)
}

// Uptime since Start.
func (d *Daemon) Uptime() time.Duration { return time.Since(d.started) }
