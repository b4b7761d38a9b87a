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
// client's files included, so that a bad file is refused as a whole.
func Load(path string) (*Loaded, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	l := &Loaded{Config: cfg, Monitors: map[string][]monitor.Spec{}, Warnings: cfg.Warnings}
	for _, s := range cfg.Services {
		if s.IsEtcd() {
			if l.Etcd, err = loadEtcdClient(cfg.Global.Etcd, os.Getenv); err != nil {
				return nil, err
			}
			break
		}
	}
	if l.PoolTLS, err = loadPoolTLS(cfg); err != nil {
		return nil, err
	}
	for _, s := range cfg.Services {
		used := map[string]bool{}
		for _, name := range s.Monitors {
			spec, warn, err := monitor.Parse(name, s.MonitorOptions[strings.ToLower(name)], s.MonitorsPos)
			if err != nil {
				return nil, err
			}
			used[strings.ToLower(name)] = true
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
	return l, nil
}

func isMonitorName(s string) bool {
	switch s {
	case "proxyfetch", "idleconnection", "runcommand", "dnsquery", "udp":
		return true
	}
	return false
}
