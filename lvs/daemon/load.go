// Package daemon wires lvsd together: it loads pybal.conf, runs each
// service's pool watcher, resolution and monitors feeding a coordinator,
// reconciles IPVS with the desired state (on every change and
// periodically), computes the BGP routes, serves the instrumentation API,
// and reloads the configuration on request.
package daemon

import (
	"fmt"
	"os"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/monitor"
)

// Loaded is a validated configuration: pybal.conf plus each service's
// monitor specs.
type Loaded struct {
	Config   *config.Config
	Monitors map[string][]monitor.Spec // by service name
	Warnings []string
	// Etcd is the client configuration of the etcd pools; its files are
	// read only when a service has one.
	Etcd EtcdClient
	// PoolTLS verifies the https:// pool sources (pool-ca-file).
	PoolTLS PoolTLS
}

// Load reads and validates a pybal.conf completely, monitors and the etcd
// client's files included, so that a bad file is refused as a whole. It
// reports every problem found (a conf.Errors, sorted by line); when
// pybal.conf itself has errors, the monitors and files it names are not
// checked until it is fixed.
func Load(path string) (*Loaded, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	var errs conf.List
	l := &Loaded{Config: cfg, Monitors: map[string][]monitor.Spec{}, Warnings: cfg.Warnings}
	for _, s := range cfg.Services {
		if s.IsEtcd() {
			l.Etcd, err = loadEtcdClient(cfg.Global.Etcd, os.Getenv)
			errs.Append(conf.Pos{File: path}, err)
			break
		}
	}
	l.PoolTLS, err = loadPoolTLS(cfg)
	errs.Append(conf.Pos{File: path}, err)
	for _, s := range cfg.Services {
		l.loadMonitors(s, &errs)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return l, nil
}

// loadMonitors parses a service's monitors, recording their problems.
func (l *Loaded) loadMonitors(s *config.Service, errs *conf.List) {
	used := map[string]bool{}
	for _, name := range s.Monitors {
		used[strings.ToLower(name)] = true
		spec, warn, err := monitor.Parse(name, s.MonitorOptions[strings.ToLower(name)], s.MonitorsPos)
		if err != nil {
			errs.Append(s.MonitorsPos, err)
			continue
		}
		l.Warnings = append(l.Warnings, warn...)
		l.Monitors[s.Name] = append(l.Monitors[s.Name], spec)
	}
	for mon, opts := range s.MonitorOptions {
		if !used[mon] && !isMonitorName(mon) {
			for k, o := range opts {
				l.Warnings = append(l.Warnings, fmt.Sprintf("%s: %s.%s: unknown key in [%s], ignored", o.Pos, mon, k, s.Name))
			}
		}
	}
}

func isMonitorName(s string) bool {
	switch s {
	case "proxyfetch", "idleconnection", "runcommand", "dnsquery", "udp":
		return true
	}
	return false
}
