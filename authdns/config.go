package authdns

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/geotraffic/geotraffic/internal/yamlerr"
	"gopkg.in/yaml.v3"
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

	// UDPRcvBuf is the receive buffer asked for each UDP socket, in
	// bytes (default DefaultUDPRcvBuf; 0 leaves the kernel's default).
	UDPRcvBuf int

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

	// Digest is the sha256 of this file's bytes.
	Digest string

	// GeoIP is the `geoip:` section: inline (GeoIPNode) or a file name.
	GeoIPNode *yaml.Node
	GeoIPFile string
	geoipLine int
}

// Defaults, documented in the README.
const (
	DefaultMaxUDPSize     = 1232
	DefaultTCPIdleTimeout = 37 * time.Second
	DefaultMaxTCPClients  = 256
	// DefaultControlSocket is the control socket's name, next to the
	// configuration file, when `control` is not set.
	DefaultControlSocket = "control.sock"
)

type fieldError struct {
	file string
	line int
	key  string
	msg  string
}

func (e *fieldError) Error() string {
	if e.key == "" {
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.file, e.line, e.key, e.msg)
}

// LoadConfig reads and validates authdns.yaml.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses the bytes of authdns.yaml named path.
func ParseConfig(path string, data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlerr.Wrap(path, data, err)
	}
	base, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	cfg := &Config{File: path, MaxUDPSize: DefaultMaxUDPSize, TCPIdleTimeout: DefaultTCPIdleTimeout,
		MaxTCPClients: DefaultMaxTCPClients, Digest: hex.EncodeToString(sum[:]),
		Control: filepath.Join(base, DefaultControlSocket), GeoIPDBDir: base, MaxStageBytes: DefaultMaxStageBytes}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s:1: empty configuration", path)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &fieldError{path, root.Line, "", "the configuration must be a mapping of keys"}
	}
	var errs []error
	fail := func(n *yaml.Node, key, format string, args ...any) {
		errs = append(errs, &fieldError{path, n.Line, key, fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if seen[key] {
			fail(k, key, "duplicate key")
			continue
		}
		seen[key] = true
		switch key {
		case "listen":
			var l []string
			if err := v.Decode(&l); err != nil {
				fail(v, key, "want a list of host:port")
				continue
			}
			for _, a := range l {
				host, port, err := net.SplitHostPort(a)
				if err != nil || net.ParseIP(host) == nil {
					fail(v, key, "%q is not an IP:port (IPv6 as [::1]:5300)", a)
					continue
				}
				if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
					fail(v, key, "%q: bad port", a)
				}
			}
			cfg.Listen = l
		case "zones":
			cfg.Zones = resolve(base, v.Value)
		case "nsid":
			cfg.NSID = v.Value
		case "chaos_response":
			cfg.ChaosResponse = v.Value
		case "max_udp_size":
			n, err := strconv.Atoi(v.Value)
			if err != nil || n < 512 || n > 65535 {
				fail(v, key, "want a number from 512 to 65535")
				continue
			}
			cfg.MaxUDPSize = uint16(n)
		case "tcp_idle_timeout":
			d, err := parseDuration(v.Value)
			if err != nil || d <= 0 || d > time.Hour {
				fail(v, key, "want a duration such as 37s (or seconds), at most 1h")
				continue
			}
			cfg.TCPIdleTimeout = d
		case "max_tcp_clients":
			n, err := strconv.Atoi(v.Value)
			if err != nil || n < 1 {
				fail(v, key, "want a positive number")
				continue
			}
			cfg.MaxTCPClients = n
		case "udp_sockets":
			n, err := strconv.Atoi(v.Value)
			if err != nil || n < 1 || n > 256 {
				fail(v, key, "want a number from 1 to 256 (default: one per CPU)")
				continue
			}
			cfg.UDPSockets = n
		case "udp_rcvbuf":
			n, err := parseRcvBuf(v.Value)
			if err != nil {
				fail(v, key, "%v", err)
				continue
			}
			cfg.UDPRcvBuf = n
		case "admin_state":
			cfg.AdminState = resolve(base, v.Value)
		case "geoip":
			cfg.geoipLine = v.Line
			switch v.Kind {
			case yaml.MappingNode:
				cfg.GeoIPNode = v
			case yaml.ScalarNode:
				cfg.GeoIPFile = resolve(base, v.Value)
			default:
				fail(v, key, "want a mapping, or the name of a geoip YAML file")
			}
		case "data":
			cfg.Data = resolve(base, v.Value)
			if v.Value == "" {
				fail(v, key, "want a directory")
			}
		case "geoip_db_dir":
			cfg.GeoIPDBDir = resolve(base, v.Value)
		case "control":
			switch v.Value {
			case "", "off", "none":
				cfg.Control = ""
			default:
				cfg.Control = resolve(base, v.Value)
				if len(cfg.Control) > 100 {
					fail(v, key, "socket path longer than 100 bytes (the Unix socket limit is 108)")
				}
			}
		case "control_tcp":
			// Checked below, once control_tls_* are known.
			cfg.ControlTCP = v.Value
		case "control_token_file":
			cfg.ControlTokenFile = resolve(base, v.Value)
		case "control_tls_cert":
			cfg.ControlTLSCert = resolve(base, v.Value)
		case "control_tls_key":
			cfg.ControlTLSKey = resolve(base, v.Value)
		case "control_client_ca":
			cfg.ControlClientCA = resolve(base, v.Value)
		case "metrics":
			if _, _, err := net.SplitHostPort(v.Value); err != nil && v.Value != "" {
				fail(v, key, "want host:port, such as 127.0.0.1:9153")
				continue
			}
			cfg.Metrics = v.Value
		case "max_stage_bytes":
			n, err := parseStageBytes(v.Value)
			if err != nil {
				fail(v, key, "%v", err)
				continue
			}
			cfg.MaxStageBytes = n
		case "etcd":
			e, eerrs := parseEtcd(path, base, v)
			errs = append(errs, eerrs...)
			cfg.Etcd = e
		default:
			fail(k, key, "unknown key")
		}
	}
	if !seen["udp_rcvbuf"] {
		cfg.UDPRcvBuf = DefaultUDPRcvBuf
	}
	if cfg.Data != "" {
		for _, k := range []string{"zones", "admin_state", "geoip"} {
			if seen[k] {
				errs = append(errs, &fieldError{path, keyLine(root, k), k,
					"comes from the data directory when `data` is set (DIR/zones, DIR/admin_state, DIR/geoip.yaml)"})
			}
		}
		cfg.Zones = filepath.Join(cfg.Data, "zones")
		cfg.AdminState = filepath.Join(cfg.Data, "admin_state")
		cfg.GeoIPFile = filepath.Join(cfg.Data, "geoip.yaml")
	}
	if (cfg.ControlTLSCert == "") != (cfg.ControlTLSKey == "") {
		have, missing := "control_tls_cert", "control_tls_key"
		if cfg.ControlTLSKey != "" {
			have, missing = missing, have
		}
		errs = append(errs, &fieldError{path, keyLine(root, have), have, "needs " + missing + " too"})
	}
	if cfg.ControlTCP != "" {
		if err := controlTCPAddr(cfg.ControlTCP, cfg.ControlTLS()); err != nil {
			errs = append(errs, &fieldError{path, keyLine(root, "control_tcp"), "control_tcp", err.Error()})
		}
		if cfg.ControlTokenFile == "" && cfg.ControlClientCA == "" {
			errs = append(errs, &fieldError{path, keyLine(root, "control_tcp"), "control_tcp",
				"needs control_token_file (a bearer token) or control_client_ca (client certificates): the TCP control API always authenticates its clients"})
		}
	} else if cfg.ControlTLS() {
		errs = append(errs, &fieldError{path, keyLine(root, "control_tls_cert"), "control_tls_cert", "needs control_tcp: TLS is for the TCP control listener"})
	}
	if cfg.ControlClientCA != "" && (cfg.ControlTCP == "" || !cfg.ControlTLS()) {
		errs = append(errs, &fieldError{path, keyLine(root, "control_client_ca"), "control_client_ca",
			"needs control_tcp with control_tls_cert and control_tls_key: client certificates are checked by TLS"})
	}
	if len(cfg.Listen) == 0 {
		errs = append(errs, &fieldError{path, root.Line, "listen", "at least one address is required"})
	}
	if cfg.Zones == "" {
		errs = append(errs, &fieldError{path, root.Line, "zones", "the zones directory is required"})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
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

func keyLine(root *yaml.Node, key string) int {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == key {
			return root.Content[i].Line
		}
	}
	return root.Line
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
