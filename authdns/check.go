package authdns

import (
	"errors"
	"log/slog"

	"github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/zones"
)

// Check loads and validates everything the daemon would load from cfg
// (data directory, zones, geoip config and databases, nets files,
// admin_state, control token and TLS material, etcd settings and the files
// they name, without contacting etcd, DNSSEC keys) and returns every error
// found, each as file:line: reason, joined. It changes nothing. Parts are checked
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
	if _, err := loadControlCert(cfg); err != nil {
		errs = append(errs, err)
	}
	if _, err := loadClientCAs(cfg); err != nil {
		errs = append(errs, err)
	}
	cookies, err := loadCookies(cfg)
	if err != nil {
		errs = append(errs, err)
	}
	// The settings and the files they name only: etcd need not be up.
	if _, err := loadEtcd(cfg.Etcd); err != nil {
		errs = append(errs, err)
	}
	var bundle *Bundle
	if cfg.Data != "" {
		b, err := ReadBundle(cfg.Data)
		if err != nil {
			errs = append(errs, err)
		}
		bundle = b
	}
	// The geo config is built once: building compiles (and logs) every map.
	g, err := LoadGeo(cfg, log)
	if err != nil {
		errs = append(errs, err)
		// Still check the zones, accepting any DYNA/DYNC target.
		set, zerr := zones.Load(cfg.Zones, anyDyn{}, cfg.ZoneOptions(log))
		if zerr != nil {
			errs = append(errs, zerr)
		}
		_, kerr := checkSigning(cfg, set, log)
		return nil, errors.Join(append(errs, kerr)...)
	}
	set, err := zones.Load(cfg.Zones, checkerFor(g), cfg.ZoneOptions(log))
	if err != nil {
		errs = append(errs, err)
	}
	signing, err := checkSigning(cfg, set, log)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	st := assemble(cfg, admin, g, set, bundle)
	st.Cookies = cookies
	st.Signing = signing
	return st, nil
}

// anyDyn accepts every dynamic target: used to keep checking zones when
// the geoip configuration itself is broken.
type anyDyn struct{}

func (anyDyn) CheckDyn(plugin, res, dc string, dync bool) (any, error) { return nil, nil }
