// Package config reads PyBal's pybal.conf (INI with Python list literals,
// parsed safely) into typed settings for lvsd, reporting every error with
// file, line and key.
package config

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/pool"
)

// Config is a whole pybal.conf.
type Config struct {
	File     string
	Global   Global
	Services []*Service // file order
	// Warnings are non-fatal findings (unknown keys, unused settings), to
	// be logged and printed by lvsd check.
	Warnings []string
}

// Global is the [global] section.
type Global struct {
	Instrumentation     bool
	InstrumentationPort uint16
	InstrumentationIPs  []netip.Addr
	BGP                 bgp.Config
	// BGPWithdrawOnDown is the default of the per-service key.
	BGPWithdrawOnDown bool
	// Our additions.
	PoolPollInterval   time.Duration // pool-poll-interval, default 1 s
	DNSRefreshInterval time.Duration // dns-refresh-interval, default 60 s
	ResyncInterval     time.Duration // ipvs-resync-interval, default 30 s
	// Etcd configures the client of the etcd:// and etcds:// pools.
	Etcd EtcdSettings
	// PoolCAFile is pool-ca-file: PEM CAs that https:// pool sources are
	// verified against instead of the system roots (the daemon reads it).
	PoolCAFile    string
	PoolCAFilePos conf.Pos
	// ControlSocket is control-socket: the Unix socket of lvsd ctl
	// (mode 0600, root or lvsd's user only); default DefaultControlSocket.
	ControlSocket string
	// ManualStateFile is manual-depool-state: the manual depools in
	// force, kept across restarts; default DefaultManualStateFile.
	ManualStateFile string
}

// Defaults of the control socket and of the manual depool state file.
const (
	DefaultControlSocket   = "/run/lvsd/control.sock"
	DefaultManualStateFile = "/var/lib/lvsd/manual-depools.json"
)

// EtcdSettings are the [global] keys of the etcd client shared by the
// etcd:// and etcds:// services. They are paths: the daemon reads the files
// (lvsd status, which parses the same file, may not be allowed to).
type EtcdSettings struct {
	CACert string // etcd-cacert: PEM CA of etcd's certificate (etcds://; system roots if unset)
	Cert   string // etcd-cert: client certificate, with Key (etcds://)
	Key    string // etcd-key
	User   string // etcd-user: RBAC user
	// PasswordFile is etcd-password-file; without it the password comes
	// from the environment (LVSD_ETCD_PASSWORD).
	PasswordFile string
	// Pos is where each key was set, for errors about the files.
	Pos map[string]conf.Pos
}

// Equal compares the settings, not where they were written.
func (e EtcdSettings) Equal(o EtcdSettings) bool {
	return e.CACert == o.CACert && e.Cert == o.Cert && e.Key == o.Key && e.User == o.User && e.PasswordFile == o.PasswordFile
}

// TLSSet reports whether a TLS key is set (they matter to etcds:// only).
func (e EtcdSettings) TLSSet() bool { return e.CACert != "" || e.Cert != "" || e.Key != "" }

// Service is one LVS service section.
type Service struct {
	Name       string
	Pos        conf.Pos
	Key        ipvs.ServiceKey
	IPPos      conf.Pos
	Scheduler  string
	OnePacket  bool
	MHPort     bool
	MHFallback bool
	PoolURL    string
	PoolURLPos conf.Pos
	// Etcd is the parsed PoolURL of an etcd:// or etcds:// pool (zero
	// otherwise: see IsEtcd).
	Etcd            pool.EtcdURL
	DepoolThreshold float64
	Monitors        []string
	MonitorsPos     conf.Pos
	// MonitorOptions maps lower-cased monitor name to its options
	// (the part after "<monitor>.").
	MonitorOptions    map[string]map[string]Option
	BGP               bool
	BGPMED            uint32 // effective: the service's bgp-med, else the global one
	BGPMEDPos         conf.Pos
	BGPWithdrawOnDown bool
	Forwarding        ipvs.Forward
	RealserverPort    uint16 // 0: the service port
	Rise, Fall        int
	DrainOnDepool     bool
	PoolPollInterval  time.Duration
	// PoolTLSInsecure is pool-tls-insecure: an https:// pool source's
	// certificate is not verified.
	PoolTLSInsecure bool
}

// IsEtcd reports whether the pool comes from etcd.
func (s *Service) IsEtcd() bool { return len(s.Etcd.Endpoints) > 0 }

// CheckPort is the port health checks and IPVS destinations use.
func (s *Service) CheckPort() uint16 {
	if s.RealserverPort != 0 {
		return s.RealserverPort
	}
	return s.Key.Port
}

// Equal reports whether two services have the same settings (used on
// reload to leave unchanged services alone).
func (s *Service) Equal(o *Service) bool {
	a, b := *s, *o
	var z conf.Pos
	a.Pos, b.Pos, a.PoolURLPos, b.PoolURLPos = z, z, z, z
	a.MonitorsPos, b.MonitorsPos, a.BGPMEDPos, b.BGPMEDPos, a.IPPos, b.IPPos = z, z, z, z, z, z
	return fmt.Sprintf("%v|%s", stripOpts(a), optsString(a.MonitorOptions)) ==
		fmt.Sprintf("%v|%s", stripOpts(b), optsString(b.MonitorOptions))
}

func stripOpts(s Service) Service { s.MonitorOptions = nil; return s }

func optsString(m map[string]map[string]Option) string {
	var keys []string
	for mon, opts := range m {
		for k, o := range opts {
			keys = append(keys, mon+"."+k+"="+o.Value)
		}
	}
	sort.Strings(keys)
	return strings.Join(keys, "\n")
}

// Load reads and validates a pybal.conf.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses pybal.conf text; file names it in errors. It reports every
// problem of the file (a conf.Errors, sorted by line), not only the first;
// a service with a problem is left out of the checks across services
// (duplicates, BGP MEDs and next hops), so that one mistake is reported
// once.
func Parse(file string, data []byte) (*Config, error) {
	var errs conf.List
	sections := parseINI(file, bytes.NewReader(data), &errs)
	cfg := &Config{File: file}
	global := &Section{Name: "global", Pos: conf.At(file, 1), Opts: map[string]Option{}}
	for _, s := range sections {
		if s.Name == "global" {
			global = s
		}
	}
	globalOK := cfg.parseGlobal(newReader(global, &errs))
	seen := map[ipvs.ServiceKey]string{}
	for _, s := range sections {
		if s.Name == "global" {
			continue
		}
		svc := cfg.parseService(newReader(s, &errs))
		if svc == nil {
			continue
		}
		if other, dup := seen[svc.Key]; dup {
			errs.Addf(s.Pos, "", "service [%s] has the same protocol, ip and port as [%s]", s.Name, other)
			continue
		}
		seen[svc.Key] = s.Name
		cfg.Services = append(cfg.Services, svc)
	}
	if globalOK {
		cfg.checkBGP(&errs)
	}
	cfg.checkPoolCA()
	if err := unique(errs.Sorted()); err != nil {
		return nil, err
	}
	return cfg, nil
}

// unique drops repeated problems: a bad [DEFAULT] value is read, and
// reported, by every section.
func unique(es conf.Errors) error {
	var out conf.List
	seen := map[string]bool{}
	for _, e := range es {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out.Add(e)
		}
	}
	return out.Err()
}

// checkBGP enforces that services on one IP agree on their MED and that a
// next hop exists for each announced family.
func (c *Config) checkBGP(errs *conf.List) {
	med := map[netip.Addr]*Service{}
	for _, s := range c.Services {
		if !s.BGP {
			continue
		}
		if o, ok := med[s.Key.Addr]; ok && o.BGPMED != s.BGPMED {
			errs.Addf(s.BGPMEDPos, "bgp-med", "service [%s] has MED %d but [%s] on the same IP %s has %d",
				s.Name, s.BGPMED, o.Name, s.Key.Addr, o.BGPMED)
		} else if !ok {
			med[s.Key.Addr] = s
		}
		if !c.Global.BGP.Enabled {
			continue
		}
		if s.Key.Addr.Is4() && !c.Global.BGP.NextHopV4.IsValid() {
			errs.Addf(s.IPPos, "ip", "service [%s] announces IPv4 VIP %s but [global] has no bgp-nexthop-ipv4", s.Name, s.Key.Addr)
		}
		if s.Key.Addr.Is6() && !c.Global.BGP.NextHopV6.IsValid() {
			errs.Addf(s.IPPos, "ip", "service [%s] announces IPv6 VIP %s but [global] has no bgp-nexthop-ipv6", s.Name, s.Key.Addr)
		}
	}
}
