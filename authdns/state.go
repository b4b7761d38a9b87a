package authdns

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/geo"
	"github.com/geotraffic/geotraffic/zones"
)

// State is one complete, validated serving state.
type State struct {
	Config *Config
	Zones  *zones.Set
	Geo    *geo.Geo // nil without a geoip section
	Admin  *adminstate.State
	Forced *geo.Forced
}

// LoadGeo parses and builds the geoip section, if any.
func LoadGeo(cfg *Config, log *slog.Logger) (*geo.Geo, error) {
	var gc *geo.Config
	var err error
	switch {
	case cfg.GeoIPNode != nil:
		gc, err = geo.ParseConfig(cfg.File, cfg.GeoIPNode, filepath.Dir(cfg.File))
	case cfg.GeoIPFile != "":
		gc, err = geo.LoadConfigFile(cfg.GeoIPFile)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return geo.Build(gc, log)
}

// Build loads everything cfg names and validates it as a whole. Nothing is
// served from it until the caller swaps it in.
func Build(cfg *Config, admin *adminstate.State, log *slog.Logger) (*State, error) {
	g, err := LoadGeo(cfg, log)
	if err != nil {
		return nil, err
	}
	var checker zones.DynChecker
	if g != nil {
		checker = geoChecker{g}
	}
	set, err := zones.LoadDir(cfg.Zones, checker)
	if err != nil {
		return nil, err
	}
	st := &State{Config: cfg, Zones: set, Geo: g, Admin: admin}
	if g != nil {
		st.Forced = g.ApplyAdmin(admin)
	}
	return st, nil
}

// WithAdmin returns a copy of st with a new admin_state applied.
func (st *State) WithAdmin(admin *adminstate.State) *State {
	n := *st
	n.Admin = admin
	if st.Geo != nil {
		n.Forced = st.Geo.ApplyAdmin(admin)
	}
	return &n
}

// Snapshot is the answer path's view of this state.
func (st *State) Snapshot() *dnsserver.Snapshot {
	snap := &dnsserver.Snapshot{
		Zones:          st.Zones,
		Chaos:          st.Config.ChaosResponse,
		MaxUDPSize:     st.Config.MaxUDPSize,
		TCPIdleTimeout: st.Config.TCPIdleTimeout,
	}
	if st.Config.NSID != "" {
		snap.NSID = []byte(st.Config.NSID)
	}
	if st.Geo != nil {
		snap.Dyn = newGeoBackend(st.Geo, st.Forced, st.Zones)
	}
	return snap.Prepare()
}

// States reports forced and real states (for `authdns states`).
func (st *State) States() map[string]geo.StateInfo {
	if st.Geo == nil {
		return map[string]geo.StateInfo{}
	}
	return st.Geo.States(st.Forced, nil)
}

// geoChecker validates DYNA/DYNC references against the GeoIP resources.
type geoChecker struct{ g *geo.Geo }

func (c geoChecker) CheckDyn(plugin, res, dc string, dync bool) (any, error) {
	r, ok := c.g.Resource(res)
	if !ok {
		return nil, fmt.Errorf("no geoip resource %q", res)
	}
	if dc != "" && !r.HasDC(dc) {
		return nil, fmt.Errorf("resource %q has no datacenter %q", res, dc)
	}
	if r.HasCNAME() && !dync {
		return nil, fmt.Errorf("resource %q maps datacenters to CNAMEs; use DYNC, not DYNA", res)
	}
	return r, nil
}
