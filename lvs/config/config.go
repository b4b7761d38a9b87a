// Package config reads PyBal's pybal.conf (INI with Python list literals,
// parsed safely) into typed settings for lvsd, reporting every error with
// file, line and key.
package config

import (
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/pool"
	"github.com/geotraffic/geotraffic/lvs/pylit"
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
	PoolCAFilePos Pos
}

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
	Pos map[string]Pos
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
	Pos        Pos
	Key        ipvs.ServiceKey
	IPPos      Pos
	Scheduler  string
	OnePacket  bool
	MHPort     bool
	MHFallback bool
	PoolURL    string
	PoolURLPos Pos
	// Etcd is the parsed PoolURL of an etcd:// or etcds:// pool (zero
	// otherwise: see IsEtcd).
	Etcd            pool.EtcdURL
	DepoolThreshold float64
	Monitors        []string
	MonitorsPos     Pos
	// MonitorOptions maps lower-cased monitor name to its options
	// (the part after "<monitor>.").
	MonitorOptions    map[string]map[string]Option
	BGP               bool
	BGPMED            uint32 // effective: the service's bgp-med, else the global one
	BGPMEDPos         Pos
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
	a.Pos, b.Pos, a.PoolURLPos, b.PoolURLPos = Pos{}, Pos{}, Pos{}, Pos{}
	a.MonitorsPos, b.MonitorsPos, a.BGPMEDPos, b.BGPMEDPos, a.IPPos, b.IPPos = Pos{}, Pos{}, Pos{}, Pos{}, Pos{}, Pos{}
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

// Parse parses pybal.conf text; file names it in errors.
func Parse(file string, data []byte) (*Config, error) {
	sections, err := parseINI(file, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	cfg := &Config{File: file}
	var global *Section
	for _, s := range sections {
		if s.Name == "global" {
			global = s
		}
	}
	if global == nil {
		global = &Section{Name: "global", Pos: Pos{File: file, Line: 1}, Opts: map[string]Option{}}
	}
	if err := cfg.parseGlobal(global); err != nil {
		return nil, err
	}
	seen := map[ipvs.ServiceKey]string{}
	for _, s := range sections {
		if s.Name == "global" {
			continue
		}
		svc, err := cfg.parseService(s)
		if err != nil {
			return nil, err
		}
		if other, dup := seen[svc.Key]; dup {
			return nil, s.Pos.Errorf("", "service [%s] has the same protocol, ip and port as [%s]", s.Name, other)
		}
		seen[svc.Key] = s.Name
		cfg.Services = append(cfg.Services, svc)
	}
	if err := cfg.checkBGP(); err != nil {
		return nil, err
	}
	cfg.checkPoolCA()
	return cfg, nil
}

// checkBGP enforces that services on one IP agree on their MED and that a
// next hop exists for each announced family.
func (c *Config) checkBGP() error {
	med := map[netip.Addr]*Service{}
	for _, s := range c.Services {
		if !s.BGP {
			continue
		}
		if o, ok := med[s.Key.Addr]; ok && o.BGPMED != s.BGPMED {
			return s.BGPMEDPos.Errorf("bgp-med", "service [%s] has MED %d but [%s] on the same IP %s has %d",
				s.Name, s.BGPMED, o.Name, s.Key.Addr, o.BGPMED)
		}
		med[s.Key.Addr] = s
		if !c.Global.BGP.Enabled {
			continue
		}
		if s.Key.Addr.Is4() && !c.Global.BGP.NextHopV4.IsValid() {
			return s.IPPos.Errorf("ip", "service [%s] announces IPv4 VIP %s but [global] has no bgp-nexthop-ipv4", s.Name, s.Key.Addr)
		}
		if s.Key.Addr.Is6() && !c.Global.BGP.NextHopV6.IsValid() {
			return s.IPPos.Errorf("ip", "service [%s] announces IPv6 VIP %s but [global] has no bgp-nexthop-ipv6", s.Name, s.Key.Addr)
		}
	}
	return nil
}

// reader consumes a section's keys, remembering which were used.
type reader struct {
	s    *Section
	used map[string]bool
}

func newReader(s *Section) *reader { return &reader{s: s, used: map[string]bool{}} }

func (r *reader) opt(key string) (Option, bool) {
	r.used[key] = true
	o, ok := r.s.Opts[key]
	return o, ok
}

func (r *reader) missing(key string) error {
	return r.s.Pos.Errorf(key, "required in [%s]", r.s.Name)
}

func (r *reader) str(key, def string) (string, Pos) {
	o, ok := r.opt(key)
	if !ok {
		return def, r.s.Pos
	}
	return o.Value, o.Pos
}

func (r *reader) boolean(key string, def bool) (bool, error) {
	o, ok := r.opt(key)
	if !ok {
		return def, nil
	}
	b, err := ParseBool(o.Value)
	if err != nil {
		return false, o.Pos.Errorf(key, "%v", err)
	}
	return b, nil
}

func (r *reader) uint(key string, def uint64, bits int) (uint64, error) {
	o, ok := r.opt(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseUint(o.Value, 10, bits)
	if err != nil {
		return 0, o.Pos.Errorf(key, "not an unsigned %d-bit integer: %q", bits, o.Value)
	}
	return n, nil
}

func (r *reader) seconds(key string, def time.Duration) (time.Duration, error) {
	o, ok := r.opt(key)
	if !ok {
		return def, nil
	}
	d, err := ParseSeconds(o.Value)
	if err != nil {
		return 0, o.Pos.Errorf(key, "%v", err)
	}
	return d, nil
}

func (r *reader) addrList(key string, def []netip.Addr) ([]netip.Addr, error) {
	o, ok := r.opt(key)
	if !ok {
		return def, nil
	}
	var items []string
	if strings.HasPrefix(o.Value, "[") || strings.HasPrefix(o.Value, "(") || strings.HasPrefix(o.Value, "\"") || strings.HasPrefix(o.Value, "'") {
		l, err := pylit.StringList(o.Value)
		if err != nil {
			return nil, o.Pos.Errorf(key, "%v", err)
		}
		items = l
	} else {
		items = []string{o.Value}
	}
	out := []netip.Addr{}
	for _, it := range items {
		if it == "" { // PyBal's [""] means all addresses
			continue
		}
		a, err := netip.ParseAddr(it)
		if err != nil {
			return nil, o.Pos.Errorf(key, "bad IP address %q", it)
		}
		out = append(out, a)
	}
	return out, nil
}

func (r *reader) unknown(c *Config, what string) {
	for _, k := range r.s.Keys {
		if !r.used[k] && !r.s.fromDefault[k] {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s: unknown key in %s, ignored", r.s.Opts[k].Pos, k, what))
		}
	}
}

// ParseBool accepts PyBal's (ConfigParser's) boolean words.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, nil
	case "f", "false", "n", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q (want yes/no, true/false, on/off, 1/0)", s)
}

// ParseSeconds parses a non-negative number of seconds, e.g. "10" or "0.5".
func ParseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > 1e9 {
		return 0, fmt.Errorf("not a number of seconds: %q", s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

func (c *Config) parseGlobal(s *Section) error {
	r := newReader(s)
	g := &c.Global
	var err error
	if g.Instrumentation, err = r.boolean("instrumentation", false); err != nil {
		return err
	}
	port, err := r.uint("instrumentation_port", 9090, 16)
	if err != nil {
		return err
	}
	g.InstrumentationPort = uint16(port)
	if g.InstrumentationIPs, err = r.addrList("instrumentation_ips",
		[]netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}); err != nil {
		return err
	}
	if o, ok := s.Opts["instrumentation_ips"]; ok && len(g.InstrumentationIPs) == 0 {
		// [""] (PyBal: Twisted's interface "") means every address: the
		// dual-stack wildcard.
		if l, _ := pylit.StringList(o.Value); len(l) > 0 {
			g.InstrumentationIPs = []netip.Addr{netip.IPv6Unspecified()}
		} else {
			return o.Pos.Errorf("instrumentation_ips", "empty list")
		}
	}
	if g.BGPWithdrawOnDown, err = r.boolean("bgp-withdraw-on-down", false); err != nil {
		return err
	}
	if g.PoolPollInterval, err = r.seconds("pool-poll-interval", time.Second); err != nil {
		return err
	}
	if g.DNSRefreshInterval, err = r.seconds("dns-refresh-interval", 60*time.Second); err != nil {
		return err
	}
	if g.ResyncInterval, err = r.seconds("ipvs-resync-interval", 30*time.Second); err != nil {
		return err
	}
	for _, k := range []string{"pool-poll-interval", "dns-refresh-interval", "ipvs-resync-interval"} {
		if o, ok := s.Opts[k]; ok {
			if d, _ := ParseSeconds(o.Value); d < 10*time.Millisecond {
				return o.Pos.Errorf(k, "must be at least 0.01 s")
			}
		}
	}
	if err := parseBGP(r, &g.BGP); err != nil {
		return err
	}
	if err := parseEtcd(r, &g.Etcd); err != nil {
		return err
	}
	if o, ok := r.opt("pool-ca-file"); ok {
		if strings.TrimSpace(o.Value) == "" {
			return o.Pos.Errorf("pool-ca-file", "empty")
		}
		g.PoolCAFile, g.PoolCAFilePos = o.Value, o.Pos
	}
	r.unknown(c, "[global]")
	return nil
}

func parseBGP(r *reader, b *bgp.Config) error {
	var err error
	if b.Enabled, err = r.boolean("bgp", false); err != nil {
		return err
	}
	asn, err := r.uint("bgp-local-asn", 0, 32)
	if err != nil {
		return err
	}
	b.LocalASN = uint32(asn)
	if b.Peers, err = r.addrList("bgp-peer-address", nil); err != nil {
		return err
	}
	port, err := r.uint("bgp-peer-port", 179, 16)
	if err != nil {
		return err
	}
	b.PeerPort = uint16(port)
	if o, ok := r.opt("bgp-as-path"); ok {
		for _, f := range strings.Fields(o.Value) {
			n, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				return o.Pos.Errorf("bgp-as-path", "bad ASN %q", f)
			}
			b.ASPath = append(b.ASPath, uint32(n))
		}
		if len(b.ASPath) == 0 {
			return o.Pos.Errorf("bgp-as-path", "empty")
		}
	} else if b.LocalASN != 0 {
		b.ASPath = []uint32{b.LocalASN}
	}
	med, err := r.uint("bgp-med", 0, 32)
	if err != nil {
		return err
	}
	b.MED = uint32(med)
	for key, dst := range map[string]*netip.Addr{"bgp-nexthop-ipv4": &b.NextHopV4, "bgp-nexthop-ipv6": &b.NextHopV6, "bgp-router-id": &b.RouterID} {
		if o, ok := r.opt(key); ok {
			a, err := netip.ParseAddr(o.Value)
			if err != nil {
				return o.Pos.Errorf(key, "bad IP address %q", o.Value)
			}
			if key == "bgp-nexthop-ipv4" && !a.Is4() || key == "bgp-router-id" && !a.Is4() {
				return o.Pos.Errorf(key, "%s is not an IPv4 address", a)
			}
			if key == "bgp-nexthop-ipv6" && !a.Is6() {
				return o.Pos.Errorf(key, "%s is not an IPv6 address", a)
			}
			*dst = a
		}
	}
	if b.LocalIPs, err = r.addrList("bgp-local-ips", nil); err != nil {
		return err
	}
	lport, err := r.uint("bgp-local-port", 179, 16)
	if err != nil {
		return err
	}
	b.LocalPort = uint16(lport)
	if b.HoldTime, err = r.seconds("bgp-hold-time", 30*time.Second); err != nil {
		return err
	}
	if o, ok := r.opt("bgp-hold-time"); ok && b.HoldTime != 0 && b.HoldTime < 3*time.Second {
		return o.Pos.Errorf("bgp-hold-time", "must be 0 or at least 3 s (RFC 4271)")
	}
	if o, ok := r.opt("bgp-communities"); ok {
		l, err := pylit.StringList(o.Value)
		if err != nil {
			return o.Pos.Errorf("bgp-communities", "%v", err)
		}
		for _, c := range l {
			a, v, found := strings.Cut(c, ":")
			an, err1 := strconv.ParseUint(a, 10, 16)
			vn, err2 := strconv.ParseUint(v, 10, 16)
			if !found || err1 != nil || err2 != nil {
				return o.Pos.Errorf("bgp-communities", "bad community %q (want ASN:VALUE, both 0-65535)", c)
			}
			b.Communities = append(b.Communities, bgp.Community{ASN: uint16(an), Value: uint16(vn)})
		}
	}
	pasn, err := r.uint("bgp-peer-asn", 0, 32)
	if err != nil {
		return err
	}
	b.PeerASN = uint32(pasn)
	if b.ConnectRetry, err = r.seconds("bgp-connect-retry", 0); err != nil {
		return err
	}
	if b.Enabled {
		if b.LocalASN == 0 {
			return r.missing("bgp-local-asn")
		}
		if len(b.Peers) == 0 {
			return r.missing("bgp-peer-address")
		}
		if err := b.Validate(); err != nil {
			// Validate names the key ("key: reason"); add file and line.
			first := strings.SplitN(err.Error(), "\n", 2)[0]
			key, reason, _ := strings.Cut(first, ": ")
			pos := r.s.Pos
			if o, ok := r.s.Opts[key]; ok {
				pos = o.Pos
			}
			return pos.Errorf(key, "%s", reason)
		}
	}
	if !b.RouterID.IsValid() {
		for _, a := range b.LocalIPs {
			if a.Is4() {
				b.RouterID = a
				break
			}
		}
		if !b.RouterID.IsValid() {
			b.RouterID = b.NextHopV4
		}
	}
	return nil
}

func (c *Config) parseService(s *Section) (*Service, error) {
	r := newReader(s)
	svc := &Service{Name: s.Name, Pos: s.Pos, MonitorOptions: map[string]map[string]Option{}}
	var err error
	proto, ok := r.opt("protocol")
	if !ok {
		return nil, r.missing("protocol")
	}
	switch strings.ToLower(proto.Value) {
	case "tcp":
		svc.Key.Protocol = ipvs.TCP
	case "udp":
		svc.Key.Protocol = ipvs.UDP
	default:
		return nil, proto.Pos.Errorf("protocol", "must be tcp or udp, not %q", proto.Value)
	}
	ip, ok := r.opt("ip")
	if !ok {
		return nil, r.missing("ip")
	}
	if svc.Key.Addr, err = netip.ParseAddr(ip.Value); err != nil || svc.Key.Addr.Zone() != "" {
		return nil, ip.Pos.Errorf("ip", "bad IP address %q", ip.Value)
	}
	svc.Key.Addr, svc.IPPos = svc.Key.Addr.Unmap(), ip.Pos
	if _, ok := r.s.Opts["port"]; !ok {
		return nil, r.missing("port")
	}
	port, err := r.uint("port", 0, 16)
	if err != nil {
		return nil, err
	}
	if port == 0 {
		return nil, s.Opts["port"].Pos.Errorf("port", "must be 1-65535")
	}
	svc.Key.Port = uint16(port)
	sched, ok := r.opt("scheduler")
	if !ok {
		return nil, r.missing("scheduler")
	}
	svc.Scheduler = strings.ToLower(sched.Value)
	if !ipvs.ValidScheduler(svc.Scheduler) {
		return nil, sched.Pos.Errorf("scheduler", "unknown scheduler %q (want rr wrr lc wlc lblc lblcr dh sh sed nq mh)", sched.Value)
	}
	if svc.OnePacket, err = r.boolean("ops", false); err != nil {
		return nil, err
	}
	if svc.OnePacket && svc.Key.Protocol != ipvs.UDP {
		return nil, s.Opts["ops"].Pos.Errorf("ops", "one-packet scheduling is for UDP services only")
	}
	if svc.MHPort, err = r.boolean("mh-port", false); err != nil {
		return nil, err
	}
	if svc.MHFallback, err = r.boolean("mh-fallback", false); err != nil {
		return nil, err
	}
	for _, k := range []string{"mh-port", "mh-fallback"} {
		if o, ok := s.Opts[k]; ok && svc.Scheduler != "mh" {
			if b, _ := ParseBool(o.Value); b {
				return nil, o.Pos.Errorf(k, "only valid with scheduler = mh")
			}
		}
	}
	cfgURL, ok := r.opt("config")
	if !ok {
		return nil, r.missing("config")
	}
	if err := checkPoolURL(cfgURL.Value); err != nil {
		return nil, cfgURL.Pos.Errorf("config", "%v", err)
	}
	svc.PoolURL, svc.PoolURLPos = cfgURL.Value, cfgURL.Pos
	if pool.IsEtcdURL(cfgURL.Value) {
		if svc.Etcd, err = pool.ParseEtcdURL(cfgURL.Value); err != nil {
			return nil, cfgURL.Pos.Errorf("config", "%v", err)
		}
		if !svc.Etcd.TLS && c.Global.Etcd.TLSSet() {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: config: [%s] etcd:// is plain HTTP: etcd-cacert, etcd-cert and etcd-key "+
				"apply to etcds:// pools only", cfgURL.Pos, s.Name))
		}
	}
	svc.DepoolThreshold = 0.5
	if o, ok := r.opt("depool-threshold"); ok {
		f, err := strconv.ParseFloat(o.Value, 64)
		if err != nil || f < 0 || f > 1 {
			return nil, o.Pos.Errorf("depool-threshold", "must be a number from 0 to 1, not %q", o.Value)
		}
		svc.DepoolThreshold = f
	}
	if o, ok := r.opt("monitors"); ok {
		l, err := pylit.StringList(o.Value)
		if err != nil {
			return nil, o.Pos.Errorf("monitors", "%v", err)
		}
		svc.Monitors, svc.MonitorsPos = l, o.Pos
		seen := map[string]bool{}
		for _, m := range l {
			if seen[strings.ToLower(m)] {
				return nil, o.Pos.Errorf("monitors", "monitor %s listed twice", m)
			}
			seen[strings.ToLower(m)] = true
		}
	}
	for _, k := range s.Keys {
		mon, opt, found := strings.Cut(k, ".")
		if !found {
			continue
		}
		r.used[k] = true
		if svc.MonitorOptions[mon] == nil {
			svc.MonitorOptions[mon] = map[string]Option{}
		}
		svc.MonitorOptions[mon][opt] = s.Opts[k]
	}
	if svc.BGP, err = r.boolean("bgp", true); err != nil {
		return nil, err
	}
	svc.BGPMED, svc.BGPMEDPos = c.Global.BGP.MED, s.Pos
	if o, ok := r.opt("bgp-med"); ok {
		n, err := strconv.ParseUint(o.Value, 10, 32)
		if err != nil {
			return nil, o.Pos.Errorf("bgp-med", "not an unsigned 32-bit integer: %q", o.Value)
		}
		svc.BGPMED, svc.BGPMEDPos = uint32(n), o.Pos
	}
	if svc.BGPWithdrawOnDown, err = r.boolean("bgp-withdraw-on-down", c.Global.BGPWithdrawOnDown); err != nil {
		return nil, err
	}
	fwd, fpos := r.str("forwarding", "dr")
	switch ipvs.Forward(strings.ToLower(fwd)) {
	case ipvs.DirectRoute, ipvs.Tunnel, ipvs.Masquerade:
		svc.Forwarding = ipvs.Forward(strings.ToLower(fwd))
	default:
		return nil, fpos.Errorf("forwarding", "must be dr, tun or nat, not %q", fwd)
	}
	rp, err := r.uint("realserver-port", 0, 16)
	if err != nil {
		return nil, err
	}
	svc.RealserverPort = uint16(rp)
	if rp != 0 && svc.Forwarding != ipvs.Masquerade && rp != port {
		return nil, s.Opts["realserver-port"].Pos.Errorf("realserver-port", "a different real-server port needs forwarding = nat (dr and tun keep the VIP port)")
	}
	for _, k := range []string{"rise", "fall"} {
		n, err := r.uint(k, 1, 16)
		if err != nil {
			return nil, err
		}
		if n < 1 || n > 100 {
			return nil, s.Opts[k].Pos.Errorf(k, "must be 1-100")
		}
		if k == "rise" {
			svc.Rise = int(n)
		} else {
			svc.Fall = int(n)
		}
	}
	if svc.DrainOnDepool, err = r.boolean("drain-on-depool", false); err != nil {
		return nil, err
	}
	if svc.PoolPollInterval, err = r.seconds("pool-poll-interval", c.Global.PoolPollInterval); err != nil {
		return nil, err
	}
	if svc.PoolPollInterval < 10*time.Millisecond {
		return nil, s.Opts["pool-poll-interval"].Pos.Errorf("pool-poll-interval", "must be at least 0.01 s")
	}
	if svc.PoolTLSInsecure, err = r.boolean("pool-tls-insecure", false); err != nil {
		return nil, err
	}
	if o, ok := s.Opts["pool-tls-insecure"]; ok && svc.PoolTLSInsecure && !svc.PoolHTTPS() && !s.fromDefault["pool-tls-insecure"] {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: pool-tls-insecure: [%s] has no effect: its pool source is not https://", o.Pos, s.Name))
	}
	r.unknown(c, "["+s.Name+"]")
	return svc, nil
}

// checkPoolURL accepts the schemes lvsd can read.
func checkPoolURL(u string) error {
	for _, p := range []string{"file://", "http://", "https://", "etcd://", "etcds://"} {
		if strings.HasPrefix(u, p) && len(u) > len(p) {
			return nil
		}
	}
	return fmt.Errorf("pool source %q: want a file://, http://, https://, etcd:// or etcds:// URL", u)
}

// parseEtcd reads the etcd client keys of [global].
func parseEtcd(r *reader, e *EtcdSettings) error {
	e.Pos = map[string]Pos{}
	for _, k := range []struct {
		key string
		dst *string
	}{{"etcd-cacert", &e.CACert}, {"etcd-cert", &e.Cert}, {"etcd-key", &e.Key}, {"etcd-user", &e.User},
		{"etcd-password-file", &e.PasswordFile}} {
		key, dst := k.key, k.dst
		o, ok := r.opt(key)
		if !ok {
			continue
		}
		if strings.TrimSpace(o.Value) == "" {
			return o.Pos.Errorf(key, "empty")
		}
		*dst, e.Pos[key] = o.Value, o.Pos
	}
	if (e.Cert == "") != (e.Key == "") {
		k := "etcd-cert"
		if e.Cert == "" {
			k = "etcd-key"
		}
		return e.Pos[k].Errorf(k, "etcd-cert and etcd-key go together (a client certificate and its key)")
	}
	if e.PasswordFile != "" && e.User == "" {
		return e.Pos["etcd-password-file"].Errorf("etcd-password-file", "a password needs etcd-user")
	}
	return nil
}
