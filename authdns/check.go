package authdns

import (
	"errors"
	"log/slog"

	"github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/zones"
)

// Check loads and validates everything the daemon would load from cfg
// (data directory, zones, geoip config and databases, nets files,
// admin_state, control token) and returns every error found, each as
// file:line: reason, joined. It changes nothing. Parts are checked
// independently, so a broken geoip.yaml does not hide zone errors.
func Check(cfg *Config, log *slog.Logger) (*State, error) {
	var errs []error
	admin := adminstate.Empty("")
	if cfg.AdminState != "" {
		a, err := adminstate.Load(cfg.AdminState)
		if err != nil {
			errs = append(errs, err)
		} else {
			admin = a
		}
	}
	if _, err := readToken(cfg); err != nil {
		errs = append(errs, err)
	}
	if cfg.Data != "" {
		if _, err := ReadBundle(cfg.Data); err != nil {
			errs = append(errs, err)
		}
	}
	g, err := LoadGeo(cfg, log)
	if err != nil {
		errs = append(errs, err)
		// Still check the zones, accepting any DYNA/DYNC target.
		if _, zerr := zones.LoadDir(cfg.Zones, anyDyn{}); zerr != nil {
			errs = append(errs, zerr)
		}
		return nil, errors.Join(errs...)
	}
	if len(errs) > 0 {
		if _, zerr := zones.LoadDir(cfg.Zones, checkerFor(g)); zerr != nil {
			errs = append(errs, zerr)
		}
		return nil, errors.Join(errs...)
	}
	return Build(cfg, admin, log)
}

// anyDyn accepts every dynamic target: used to keep checking zones when
// the geoip configuration itself is broken.
type anyDyn struct{}

func (anyDyn) CheckDyn(plugin, res, dc string, dync bool) (any, error) { return nil, nil }
