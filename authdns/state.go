package authdns

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/dnsserver/rrl"
	"github.com/geotraffic/geotraffic/geo"
	"github.com/geotraffic/geotraffic/health"
	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/zones"
)

// State is one complete, validated serving state.
type State struct {
	Config *Config
	Zones  *zones.Set
	Geo    *geo.Geo // nil without a geoip section
	// Admin is the admin state in force: AdminEtcd overlaid by AdminFile,
	// so for the same key the local file wins (adminstate.Overlay).
	Admin *adminstate.State
	// AdminFile is the admin_state file alone (rollout diffs, its digest);
	// AdminEtcd is the last good state from etcd, nil without etcd or
	// before etcd first answered.
	AdminFile, AdminEtcd *adminstate.State
	Forced               *geo.Forced
	// AdminUnmatched lists the entries of Admin that match nothing Geo
	// knows, as "ORIGIN: PATTERN" (see unmatchedAdmin).
	AdminUnmatched []string
	// Health is the monitors' last snapshot applied to Geo (nil before
	// the first one, or without a geoip section: everything is up).
	Health *geo.Monitored

	// Cookies is the server cookie secret read from cookie_secret_file
	// (nil: cookies off, or no file).
	Cookies *dnsserver.Cookies

	// DataDigest and DataFiles describe the data directory as loaded
	// (empty without `data:`), for status and rollout diffs.
	DataDigest string
	DataFiles  []FileInfo

	// RRL is the response rate limiter (the daemon's, see withRRL); nil
	// = off.
	RRL *rrl.Limiter

	// Signing is the zones' DNSSEC keys and signer; nil without a
	// `dnssec:` section.
	Signing *Signing
}

// LoadGeo parses and builds the geoip and plugins sections, if any.
func LoadGeo(cfg *Config, log *slog.Logger) (*geo.Geo, error) {
	var gc *geo.Config
	var err error
	switch {
	case cfg.GeoIPNode != nil:
		gc, err = geo.ParseConfig(cfg.File, cfg.GeoIPNode, filepath.Dir(cfg.File))
	case cfg.Data != "":
		gc, err = loadDataGeo(cfg)
	case cfg.GeoIPFile != "":
		gc, err = geo.LoadConfigFile(cfg.GeoIPFile)
	}
	if err != nil {
		return nil, err
	}
	if gc, err = loadPlugins(cfg, gc); gc == nil || err != nil {
		return nil, err
	}
	known := func(name string) bool { _, ok := cfg.ServiceTypes[name]; return ok }
	if err := gc.CheckServiceTypes(known); err != nil {
		return nil, err
	}
	return geo.Build(gc, log)
}

// loadPlugins adds the plugins section, if any, to gc (nil: no geoip
// section), returning nil when there is neither.
func loadPlugins(cfg *Config, gc *geo.Config) (*geo.Config, error) {
	if cfg.PluginsNode == nil && cfg.PluginsFile == "" {
		return gc, nil
	}
	if cfg.PluginsNode == nil && cfg.Data != "" {
		if _, err := os.Stat(cfg.PluginsFile); errors.Is(err, os.ErrNotExist) {
			return gc, nil // DIR/plugins.yaml is optional
		}
	}
	if gc == nil {
		gc = &geo.Config{}
	}
	if cfg.PluginsNode != nil {
		return gc, gc.ParsePlugins(cfg.File, cfg.PluginsNode)
	}
	return gc, gc.LoadPluginsFile(cfg.PluginsFile)
}

// loadDataGeo parses DIR/geoip.yaml of a data directory. Relative
// geoip2_db paths resolve against cfg.GeoIPDBDir, because databases stay
// on each server; nets files resolve against the data directory, because
// they are rolled out with it.
func loadDataGeo(cfg *Config) (*geo.Config, error) {
	data, err := os.ReadFile(cfg.GeoIPFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("geoip config: %w", err)
	}
	root, err := conf.DecodeYAML(cfg.GeoIPFile, data)
	if err != nil {
		return nil, err
	}
	// Absolute before joining: geo.ParseConfig resolves what is still
	// relative against the data directory, which would apply it twice.
	dbDir, err := filepath.Abs(cfg.GeoIPDBDir)
	if err != nil {
		return nil, fmt.Errorf("geoip_db_dir: %w", err)
	}
	if maps := root.Get("maps"); maps != nil && maps.Kind == conf.MappingNode {
		for i := 1; i < len(maps.Content); i += 2 {
			db := maps.Content[i].Get("geoip2_db")
			if db != nil && db.Kind == conf.ScalarNode && db.Value != "" && !filepath.IsAbs(db.Value) {
				db.Value = filepath.Join(dbDir, db.Value)
			}
		}
	}
	return geo.ParseConfig(cfg.GeoIPFile, root, filepath.Dir(cfg.GeoIPFile))
}

// Build loads everything cfg names and validates it as a whole. Nothing is
// served from it until the caller swaps it in.
func Build(cfg *Config, admin *adminstate.State, log *slog.Logger) (*State, error) {
	return build(cfg, admin, log, true)
}

// build is Build, with the zones signed only when sign is set.
func build(cfg *Config, admin *adminstate.State, log *slog.Logger, sign bool) (*State, error) {
	var bundle *Bundle
	if cfg.Data != "" {
		b, err := ReadBundle(cfg.Data)
		if err != nil {
			return nil, err
		}
		bundle = b
	}
	g, err := LoadGeo(cfg, log)
	if err != nil {
		return nil, err
	}
	set, err := zones.Load(cfg.Zones, checkerFor(g), cfg.ZoneOptions(log))
	if err != nil {
		return nil, err
	}
	cookies, err := loadCookies(cfg)
	if err != nil {
		return nil, err
	}
	st := assemble(cfg, admin, g, set, bundle)
	st.Cookies = cookies
	if sign {
		// Signed before anything is served from it: the previous state
		// answers meanwhile.
		if st.Signing, err = BuildSigning(cfg, set, time.Now(), log); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// assemble makes a State of parts already loaded and validated; bundle is
// nil without a data directory.
func assemble(cfg *Config, admin *adminstate.State, g *geo.Geo, set *zones.Set, bundle *Bundle) *State {
	st := &State{Config: cfg, Zones: set, Geo: g}
	if bundle != nil {
		st.DataDigest, st.DataFiles = bundle.Digest(), bundle.Manifest()
	}
	st.setAdmin(admin, nil)
	return st
}

// WithAdmin returns a copy of st with a new admin_state file applied; the
// state from etcd stays.
func (st *State) WithAdmin(file *adminstate.State) *State {
	n := *st
	n.setAdmin(file, st.AdminEtcd)
	return &n
}

// WithSigning returns a copy of st signing with s: the keys' files or
// timing changed, or signatures are due for a refresh.
func (st *State) WithSigning(s *Signing) *State {
	n := *st
	n.Signing = s
	return &n
}

// WithEtcd returns a copy of st with a new state from etcd applied under
// the same file (nil: nothing from etcd).
func (st *State) WithEtcd(etcd *adminstate.State) *State {
	n := *st
	n.setAdmin(st.AdminFile, etcd)
	return &n
}

// WithHealth returns a copy of st answering with the monitors' snapshot s
// (folded per resource DC here, off the answer path).
func (st *State) WithHealth(s *health.Snapshot) *State {
	n := *st
	if st.Geo != nil {
		n.Health = st.Geo.ApplyHealth(s, st.Admin)
	}
	return &n
}

// HealthKeys are the (address, service type) pairs st's resources need
// checked.
func (st *State) HealthKeys() []health.Key {
	if st.Geo == nil {
		return nil
	}
	return st.Geo.HealthKeys()
}

// setAdmin precomputes the overlay's decisions here, off the answer path,
// which then only indexes them.
func (st *State) setAdmin(file, etcd *adminstate.State) {
	st.AdminFile, st.AdminEtcd = file, etcd
	st.Admin = adminstate.Overlay(etcd, file)
	st.AdminUnmatched = unmatchedAdmin(st.Geo, st.Admin)
	if st.Geo != nil {
		st.Forced = st.Geo.ApplyAdmin(st.Admin)
		// admin_state may force ADDR/SERVICE pairs, folded into the
		// health view.
		st.Health = st.Geo.ApplyHealth(st.Health.Snapshot(), st.Admin)
	}
}

// Snapshot is the answer path's view of this state.
func (st *State) Snapshot() *dnsserver.Snapshot { return st.SnapshotWith(nil) }

// SnapshotWith is Snapshot with DYNA answers counted per DC slot of slots
// (nil: every DC counts as "other").
func (st *State) SnapshotWith(slots *DCSlots) *dnsserver.Snapshot {
	snap := &dnsserver.Snapshot{
		Zones:          st.Zones,
		Chaos:          st.Config.ChaosResponse,
		MaxUDPSize:     st.Config.MaxUDPSize,
		TCPIdleTimeout: st.Config.TCPIdleTimeout,
		RRL:            st.RRL,
		Cookies:        st.Cookies,
	}
	if st.Config.NSID != "" {
		snap.NSID = []byte(st.Config.NSID)
	}
	if st.Signing != nil && st.Signing.Signer != nil { // a nil *Signer must not become a non-nil interface
		snap.DNSSEC = st.Signing.Signer
	}
	if st.Geo != nil {
		snap.Dyn = newGeoBackend(st.Geo, st.Forced, st.Health, slots.table(st.sites()))
	}
	return snap.Prepare()
}

// sites lists every DC the geoip config knows, sorted.
func (st *State) sites() []string {
	var out []string
	for k := range st.States() {
		if dc, ok := strings.CutPrefix(k, "site/"); ok {
			out = append(out, dc)
		}
	}
	sort.Strings(out)
	return out
}

// States reports forced and real states (for `authdns states`).
func (st *State) States() map[string]geo.StateInfo {
	if st.Geo == nil {
		return map[string]geo.StateInfo{}
	}
	return st.Geo.States(st.Forced, st.Health)
}

func checkerFor(g *geo.Geo) zones.DynChecker {
	if g == nil {
		return nil // a DYNA record is then an error naming its file:line
	}
	return geoChecker{g}
}

// geoChecker validates DYNA/DYNC references against geo's resources,
// with gdnsd's rules: `res/dc` pins only for geoip and metafo, resources
// that may answer a CNAME only in DYNC, reflect's resource one of dns,
// edns, best or both (any case; none is best).
type geoChecker struct{ g *geo.Geo }

func (c geoChecker) CheckDyn(plugin, res, dc string, dync bool) (any, error) {
	if !geo.IsPlugin(plugin) {
		return nil, fmt.Errorf("unknown plugin %q (expected %s)", plugin, conf.OneOf(geo.PluginNames()))
	}
	pinnable := plugin == geo.PluginGeoIP || plugin == geo.PluginMetafo
	if dc != "" && !pinnable {
		res, dc = res+"/"+dc, "" // only geoip and metafo read /DC
	}
	if res == "" && plugin != geo.PluginReflect && plugin != geo.PluginNull {
		return nil, fmt.Errorf("plugin %s needs a resource (%s!RESOURCE)", plugin, plugin)
	}
	r, ok := c.g.Lookup(plugin, res)
	switch {
	case !ok && plugin == geo.PluginReflect:
		return nil, fmt.Errorf("reflect resource %q is not one of dns, edns, best or both", res)
	case !ok:
		return nil, fmt.Errorf("no %s resource %q", plugin, res)
	}
	if dc != "" && !r.HasDC(dc) {
		return nil, fmt.Errorf("resource %q has no datacenter %q", res, dc)
	}
	if r.HasCNAMEAt(dc) && !dync {
		return nil, fmt.Errorf("resource %q may answer a CNAME; use DYNC, not DYNA", res)
	}
	return r, nil
}

// LoadState reads authdns.yaml, its admin_state and everything they name,
// and builds the state the daemon would serve, without opening sockets.
// It is what one-shot tools (`authdns states`, `trafficctl check`) need.
// DNSSEC is left out (no key read, nothing signed): those tools look at
// states and routes, never at signatures, and signing a large zone takes
// seconds. Check validates the keys.
func LoadState(path string, log *slog.Logger) (*State, error) {
	return loadState(path, log, false)
}

func loadState(path string, log *slog.Logger, sign bool) (*State, error) {
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	admin := adminstate.Empty("")
	if cfg.AdminState != "" {
		if admin, err = adminstate.Load(cfg.AdminState); err != nil {
			return nil, err
		}
	}
	return build(cfg, admin, log, sign)
}
