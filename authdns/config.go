package authdns

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/dnsserver/rrl"
	"github.com/geotraffic/geotraffic/health"
	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/zones"
)

// Config is authdns.yaml. Relative paths are resolved once, against the
// file's directory made absolute, so they mean the same whatever the
// working directory of a later reader (geo, the data directory) is.
type Config struct {
	File           string
	Listen         []string
	Zones          string
	NSID           string
	ChaosResponse  string
	MaxUDPSize     uint16
	TCPIdleTimeout time.Duration
	MaxTCPClients  int
	UDPSockets     int
	AdminState     string
	// ServiceTypes are the declared health checks (`service_types:`,
	// gdnsd's), by name; geoip resources name them. The built-in up and
	// down are not in it.
	ServiceTypes map[string]*health.ServiceType

	// UDPRcvBuf is the receive buffer asked for each UDP socket, in
	// bytes (default DefaultUDPRcvBuf; 0 leaves the kernel's default).
	UDPRcvBuf int

	// MaxTCPClientsPerIP bounds the TCP connections of one client
	// network: its address cut to TCPClientIPv4Prefix or
	// TCPClientIPv6Prefix bits.
	MaxTCPClientsPerIP                       int
	TCPClientIPv4Prefix, TCPClientIPv6Prefix int

	// Data is the rollout unit (`data: DIR`): DIR/zones, DIR/geoip.yaml
	// (optional), DIR/admin_state and any nets files geoip.yaml names.
	// When set, Zones, AdminState and GeoIPFile point into it.
	Data string
	// GeoIPDBDir resolves relative geoip2_db paths of DIR/geoip.yaml: the
	// databases are server-local and never rolled out (default: this
	// file's directory).
	GeoIPDBDir string

	// Control is the control API's Unix socket (mode 0600); "" = off.
	Control string
	// ControlTCP is an optional host:port for the control API, guarded by
	// the bearer token in ControlTokenFile. Without TLS it must be a
	// loopback address: the token must never cross a network in clear.
	ControlTCP       string
	ControlTokenFile string
	// ControlTLSCert and ControlTLSKey (PEM files, both or neither) put
	// the TCP control listener behind TLS 1.2+; reread on every reload.
	ControlTLSCert, ControlTLSKey string
	// Metrics is the host:port serving Prometheus /metrics; "" = off.
	Metrics string
	// Etcd, when set, feeds conftool's site and admin-state objects into
	// the admin state, under the local admin_state file; nil = no etcd.
	Etcd *EtcdConfig

	// MaxStageBytes bounds a stage request's body (default
	// DefaultMaxStageBytes).
	MaxStageBytes int64

	// ControlClientCA (PEM CAs) lets control_tcp clients authenticate
	// with a certificate it signs (mutual TLS) instead of the token.
	ControlClientCA string

	// Cookies turns DNS server cookies (RFC 7873) on (the default).
	// CookieSecretFile holds their secret, shared by every server behind
	// one address, and the previous one during a rotation; "" = a random
	// secret of this process.
	Cookies          bool
	CookieSecretFile string

	// ZonesDefaultTTL is the TTL of zone records written without one in
	// a zone without $TTL; ZonesStrictData refuses zones on gdnsd's data
	// warnings. Both are gdnsd's options of the same names.
	ZonesDefaultTTL uint32
	ZonesStrictData bool
	// NoCNAMEChain and NoAdditional are `cname_chain: false` and
	// `additional_addresses: false`: gdnsd 3's answers (no CNAME
	// following inside a zone, no addresses of NS/MX/SRV targets
	// outside referrals), which import-gdnsd writes.
	NoCNAMEChain bool
	NoAdditional bool

	// Digest is the sha256 of this file's bytes.
	Digest string

	// RRL is the `rrl:` section: response rate limiting; nil = off.
	RRL *rrl.Config

	// DNSSEC is the `dnssec:` section: online signing; nil = off.
	DNSSEC *DNSSECConfig

	// GeoIP is the `geoip:` section: inline (GeoIPNode) or a file name.
	GeoIPNode *conf.Node
	GeoIPFile string
	geoipLine int
	// Plugins is the `plugins:` section (gdnsd's other resolver
	// plugins): inline (PluginsNode) or a file name; with `data`, the
	// optional DIR/plugins.yaml.
	PluginsNode *conf.Node
	PluginsFile string
}

// Defaults: the DNS server's own, so a file without these keys serves
// as dnsserver does.
const (
	DefaultMaxUDPSize     = dnsserver.DefaultMaxUDPSize
	DefaultTCPIdleTimeout = dnsserver.DefaultTCPIdleTimeout
	DefaultMaxTCPClients  = dnsserver.DefaultMaxTCPClients
	// DefaultControlSocket is the control socket's name, next to the
	// configuration file, when `control` is not set.
	DefaultControlSocket = "control.sock"
)

// Per-client TCP defaults, the DNS server's own too.
const (
	DefaultMaxTCPClientsPerIP  = dnsserver.DefaultMaxTCPClientsPerIP
	DefaultTCPClientIPv4Prefix = dnsserver.DefaultTCPClientIPv4Prefix
	DefaultTCPClientIPv6Prefix = dnsserver.DefaultTCPClientIPv6Prefix
)

// LoadConfig reads and validates authdns.yaml.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(path, data)
}

// configKeys are the keys of authdns.yaml.
var configKeys = []string{"listen", "zones", "zones_default_ttl", "zones_strict_data", "cname_chain", "additional_addresses", "nsid", "chaos_response", "max_udp_size", "tcp_idle_timeout",
	"max_tcp_clients", "udp_sockets", "udp_rcvbuf", "admin_state", "geoip", "data", "geoip_db_dir", "control",
	"max_tcp_clients_per_ip", "tcp_client_ipv4_prefix", "tcp_client_ipv6_prefix",
	"control_tcp", "control_token_file", "control_tls_cert", "control_tls_key", "control_client_ca", "metrics",
	"max_stage_bytes", "etcd", "service_types", "cookies", "cookie_secret_file", "rrl", "plugins", "dnssec"}

// ParseConfig parses the bytes of authdns.yaml named path. Every problem
// is reported, sorted by line.
func ParseConfig(path string, data []byte) (*Config, error) {
	root, err := conf.DecodeYAML(path, data)
	if err != nil {
		return nil, err
	}
	base, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	cfg := &Config{File: path, MaxUDPSize: DefaultMaxUDPSize, TCPIdleTimeout: DefaultTCPIdleTimeout,
		MaxTCPClients: DefaultMaxTCPClients, MaxTCPClientsPerIP: DefaultMaxTCPClientsPerIP,
		TCPClientIPv4Prefix: DefaultTCPClientIPv4Prefix, TCPClientIPv6Prefix: DefaultTCPClientIPv6Prefix,
		Digest:  hex.EncodeToString(sum[:]),
		Control: filepath.Join(base, DefaultControlSocket), GeoIPDBDir: base, MaxStageBytes: DefaultMaxStageBytes,
		Cookies: true, ZonesDefaultTTL: zones.DefaultZoneTTL}
	if root == nil {
		return nil, conf.At(path, 1).Errorf("", "empty configuration")
	}
	if root.Kind != conf.MappingNode {
		return nil, root.Pos.Errorf("", "the configuration must be a mapping of keys")
	}
	var l conf.List
	seen := map[string]bool{}
	l.Fields(root, "", configKeys, func(key string, _, v *conf.Node) {
		seen[key] = true
		parseKey(&l, cfg, base, key, v)
	})
	if !seen["udp_rcvbuf"] {
		cfg.UDPRcvBuf = DefaultUDPRcvBuf
	}
	if cfg.Data != "" {
		for _, k := range []string{"zones", "admin_state", "geoip", "plugins"} {
			if seen[k] {
				l.Addf(keyPos(root, k), k, "comes from the data directory when `data` is set (DIR/zones, DIR/admin_state, DIR/geoip.yaml, DIR/plugins.yaml)")
			}
		}
		cfg.Zones = filepath.Join(cfg.Data, "zones")
		cfg.AdminState = filepath.Join(cfg.Data, "admin_state")
		cfg.GeoIPFile = filepath.Join(cfg.Data, "geoip.yaml")
		cfg.PluginsFile = filepath.Join(cfg.Data, "plugins.yaml")
	}
	checkControl(&l, cfg, root)
	if len(cfg.Listen) == 0 {
		l.Addf(root.Pos, "listen", "at least one address is required")
	}
	if cfg.Zones == "" {
		l.Addf(root.Pos, "zones", "the zones directory is required")
	}
	if err := l.Err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseKey reads the value v of key into cfg.
func parseKey(l *conf.List, cfg *Config, base, key string, v *conf.Node) {
	fail := func(format string, args ...any) { l.Addf(v.Pos, key, format, args...) }
	str := func() string {
		s, ok := v.Str()
		if !ok && v.Kind != conf.NullNode {
			fail("want a single value, found %s", v.Describe())
		}
		return s
	}
	switch key {
	case "listen":
		cfg.Listen = parseListen(l, v, key)
	case "zones":
		cfg.Zones = resolve(base, str())
	case "nsid":
		cfg.NSID = str()
	case "chaos_response":
		cfg.ChaosResponse = str()
	case "max_udp_size":
		n, ok := v.Int()
		if !ok || n < 512 || n > 65535 {
			fail("want a number from 512 to 65535")
			return
		}
		cfg.MaxUDPSize = uint16(n)
	case "tcp_idle_timeout":
		d, err := parseDuration(str())
		if err != nil || d <= 0 || d > time.Hour {
			fail("want a duration such as 37s (or seconds), at most 1h")
			return
		}
		cfg.TCPIdleTimeout = d
	case "max_tcp_clients":
		n, ok := v.Int()
		if !ok || n < 1 {
			fail("want a positive number")
			return
		}
		cfg.MaxTCPClients = n
	case "max_tcp_clients_per_ip":
		n, ok := v.Int()
		if !ok || n < 1 {
			fail("want a positive number")
			return
		}
		cfg.MaxTCPClientsPerIP = n
	case "tcp_client_ipv4_prefix":
		if n, ok := v.Int(); ok && n >= 8 && n <= 32 {
			cfg.TCPClientIPv4Prefix = n
		} else {
			fail("want a prefix length from 8 to 32")
		}
	case "tcp_client_ipv6_prefix":
		if n, ok := v.Int(); ok && n >= 16 && n <= 128 {
			cfg.TCPClientIPv6Prefix = n
		} else {
			fail("want a prefix length from 16 to 128")
		}
	case "udp_sockets":
		n, ok := v.Int()
		if !ok || n < 1 || n > 256 {
			fail("want a number from 1 to 256 (default: one per CPU)")
			return
		}
		cfg.UDPSockets = n
	case "udp_rcvbuf":
		n, err := parseRcvBuf(str())
		if err != nil {
			fail("%v", err)
			return
		}
		cfg.UDPRcvBuf = n
	case "admin_state":
		cfg.AdminState = resolve(base, str())
	case "service_types":
		types, err := health.ParseServiceTypes(v, key)
		l.Append(v.Pos, err)
		for _, t := range types {
			if t.File != "" {
				t.File = resolve(base, t.File) // as every other path of authdns.yaml
			}
		}
		cfg.ServiceTypes = types
	case "geoip":
		cfg.geoipLine = v.Pos.Line
		switch v.Kind {
		case conf.MappingNode:
			cfg.GeoIPNode = v
		case conf.ScalarNode:
			cfg.GeoIPFile = resolve(base, v.Value)
		default:
			fail("want a mapping, or the name of a geoip YAML file")
		}
	case "plugins":
		switch v.Kind {
		case conf.MappingNode:
			cfg.PluginsNode = v
		case conf.ScalarNode:
			cfg.PluginsFile = resolve(base, v.Value)
		default:
			fail("want a mapping, or the name of a plugins YAML file")
		}
	case "data":
		cfg.Data = resolve(base, str())
		if cfg.Data == "" {
			fail("want a directory")
		}
	case "geoip_db_dir":
		cfg.GeoIPDBDir = resolve(base, str())
	case "control":
		switch s := str(); s {
		case "", "off", "none":
			cfg.Control = ""
		default:
			cfg.Control = resolve(base, s)
			if len(cfg.Control) > 100 {
				fail("socket path longer than 100 bytes (the Unix socket limit is 108)")
			}
		}
	case "control_tcp":
		// Checked by checkControl, once control_tls_* are known.
		cfg.ControlTCP = str()
	case "control_token_file":
		cfg.ControlTokenFile = resolve(base, str())
	case "control_tls_cert":
		cfg.ControlTLSCert = resolve(base, str())
	case "control_tls_key":
		cfg.ControlTLSKey = resolve(base, str())
	case "control_client_ca":
		cfg.ControlClientCA = resolve(base, str())
	case "metrics":
		s := str()
		if _, _, err := net.SplitHostPort(s); err != nil && s != "" {
			fail("want host:port, such as 127.0.0.1:9153")
			return
		}
		cfg.Metrics = s
	case "max_stage_bytes":
		n, err := parseStageBytes(str())
		if err != nil {
			fail("%v", err)
			return
		}
		cfg.MaxStageBytes = n
	case "etcd":
		cfg.Etcd = parseEtcd(l, base, v)
	case "rrl":
		cfg.RRL = parseRRL(l, v)
	case "dnssec":
		cfg.DNSSEC = parseDNSSEC(l, base, v)
	case "cookies":
		b, ok := v.Bool()
		if !ok {
			fail("want true or false")
			return
		}
		cfg.Cookies = b
	case "zones_default_ttl":
		if n, ok := v.Int(); ok && n >= 1 && n <= 1<<31-1 {
			cfg.ZonesDefaultTTL = uint32(n)
		} else {
			fail("want a TTL in seconds from 1 to 2147483647")
		}
	case "zones_strict_data":
		if b, ok := v.Bool(); ok {
			cfg.ZonesStrictData = b
		} else {
			fail("want true or false")
		}
	case "cname_chain":
		if b, ok := v.Bool(); ok {
			cfg.NoCNAMEChain = !b
		} else {
			fail("want true or false")
		}
	case "additional_addresses":
		if b, ok := v.Bool(); ok {
			cfg.NoAdditional = !b
		} else {
			fail("want true or false")
		}
	case "cookie_secret_file":
		cfg.CookieSecretFile = resolve(base, str())
	}
}

// parseListen reads a list of IP:port.
func parseListen(l *conf.List, v *conf.Node, key string) []string {
	list, ok := stringList(v)
	if !ok {
		l.Addf(v.Pos, key, "want a list of host:port")
		return nil
	}
	for i, a := range list {
		at := v.Content[i].Pos
		host, port, err := net.SplitHostPort(a)
		if err != nil || net.ParseIP(host) == nil {
			l.Addf(at, key, "%q is not an IP:port (IPv6 as [::1]:5300)", a)
			continue
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			l.Addf(at, key, "%q: bad port", a)
		}
	}
	return list
}

// stringList reads a list of scalars.
func stringList(v *conf.Node) ([]string, bool) {
	if v.Kind != conf.SequenceNode {
		return nil, false
	}
	out := make([]string, len(v.Content))
	for i, e := range v.Content {
		s, ok := e.Str()
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// checkControl checks the control API's keys together.
func checkControl(l *conf.List, cfg *Config, root *conf.Node) {
	if (cfg.ControlTLSCert == "") != (cfg.ControlTLSKey == "") {
		have, missing := "control_tls_cert", "control_tls_key"
		if cfg.ControlTLSKey != "" {
			have, missing = missing, have
		}
		l.Addf(keyPos(root, have), have, "needs %s too", missing)
	}
	if cfg.ControlTCP != "" {
		if err := controlTCPAddr(cfg.ControlTCP, cfg.ControlTLS()); err != nil {
			l.Addf(keyPos(root, "control_tcp"), "control_tcp", "%v", err)
		}
		if cfg.ControlTokenFile == "" && cfg.ControlClientCA == "" {
			l.Addf(keyPos(root, "control_tcp"), "control_tcp",
				"needs control_token_file (a bearer token) or control_client_ca (client certificates): the TCP control API always authenticates its clients")
		}
	} else if cfg.ControlTLS() {
		l.Addf(keyPos(root, "control_tls_cert"), "control_tls_cert", "needs control_tcp: TLS is for the TCP control listener")
	}
	if cfg.ControlClientCA != "" && (cfg.ControlTCP == "" || !cfg.ControlTLS()) {
		l.Addf(keyPos(root, "control_client_ca"), "control_client_ca",
			"needs control_tcp with control_tls_cert and control_tls_key: client certificates are checked by TLS")
	}
}

// WithData returns a copy of cfg reading its DNS data from dir instead
// (a staged bundle): server-local settings stay as they are.
func (cfg *Config) WithData(dir string) *Config {
	n := *cfg
	n.Data = dir
	n.Zones = filepath.Join(dir, "zones")
	n.AdminState = filepath.Join(dir, "admin_state")
	n.GeoIPFile = filepath.Join(dir, "geoip.yaml")
	n.GeoIPNode = nil
	n.PluginsFile = filepath.Join(dir, "plugins.yaml")
	n.PluginsNode = nil
	return &n
}

// ControlTLS tells whether the TCP control listener uses TLS.
func (cfg *Config) ControlTLS() bool { return cfg.ControlTLSCert != "" && cfg.ControlTLSKey != "" }

// controlTCPAddr accepts an IP:port for the TCP control listener: any
// address with TLS, a loopback one only without, so the bearer token
// never crosses a network in clear.
func controlTCPAddr(a string, withTLS bool) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("want IP:port, such as 127.0.0.1:5380")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%q: bad port", a)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("%q: want an IP address, not a host name", a)
	}
	if !ip.IsLoopback() && !withTLS {
		return fmt.Errorf("%q is not a loopback address: without TLS the control API only listens on 127.0.0.0/8 or ::1; set control_tls_cert and control_tls_key to listen on it with TLS", a)
	}
	return nil
}

// keyPos is the position of key in mapping m, or of m when it is absent.
func keyPos(m *conf.Node, key string) conf.Pos {
	if k := m.Key(key); k != nil {
		return k.Pos
	}
	return m.Pos
}

func resolve(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

// ZoneOptions are the zone loader's options from this file; log gets
// the data warnings.
func (c *Config) ZoneOptions(log *slog.Logger) zones.Options {
	return zones.Options{DefaultTTL: c.ZonesDefaultTTL, Strict: c.ZonesStrictData, Log: log,
		NoCNAMEChain: c.NoCNAMEChain, NoAdditional: c.NoAdditional}
}
