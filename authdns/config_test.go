package authdns

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigKeys(t *testing.T) {
	tests := []struct {
		name, yaml, err string
		check           func(*Config) string
	}{
		{"data sets zones, admin_state and geoip.yaml", "listen: [\"127.0.0.1:53\"]\ndata: d\n", "", func(c *Config) string {
			if c.Zones != "/etc/x/d/zones" || c.AdminState != "/etc/x/d/admin_state" || c.GeoIPFile != "/etc/x/d/geoip.yaml" || c.GeoIPDBDir != "/etc/x" {
				return "paths: " + c.Zones + " " + c.AdminState + " " + c.GeoIPFile + " " + c.GeoIPDBDir
			}
			return ""
		}},
		{"control defaults next to the file", "listen: [\"127.0.0.1:53\"]\nzones: z\n", "", func(c *Config) string {
			if c.Control != "/etc/x/control.sock" {
				return c.Control
			}
			return ""
		}},
		{"control off", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol: off\n", "", func(c *Config) string {
			if c.Control != "" {
				return c.Control
			}
			return ""
		}},
		{"zones with data", "listen: [\"127.0.0.1:53\"]\ndata: d\nzones: z\n", "/etc/x/authdns.yaml:3: zones: comes from the data directory", nil},
		{"geoip with data", "listen: [\"127.0.0.1:53\"]\ndata: d\ngeoip: g.yaml\n", "/etc/x/authdns.yaml:3: geoip: comes from the data directory", nil},
		{"non-loopback TCP control", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol_tcp: 192.0.2.1:5380\ncontrol_token_file: t\n", "/etc/x/authdns.yaml:3: control_tcp: \"192.0.2.1:5380\" is not a loopback address", nil},
		{"non-loopback TCP control with TLS", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol_tcp: 192.0.2.1:5380\ncontrol_token_file: t\ncontrol_tls_cert: c.pem\ncontrol_tls_key: k.pem\n", "", func(c *Config) string {
			if c.ControlTCP != "192.0.2.1:5380" || !c.ControlTLS() || c.ControlTLSCert != "/etc/x/c.pem" || c.ControlTLSKey != "/etc/x/k.pem" {
				return fmt.Sprintf("%+v", c)
			}
			return ""
		}},
		{"wildcard TCP control without TLS", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol_tcp: \"[::]:5380\"\ncontrol_token_file: t\n", "/etc/x/authdns.yaml:3: control_tcp: \"[::]:5380\" is not a loopback address", nil},
		{"loopback TCP control with TLS", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol_tcp: 127.0.0.1:5380\ncontrol_token_file: t\ncontrol_tls_cert: c.pem\ncontrol_tls_key: k.pem\n", "", func(c *Config) string {
			if !c.ControlTLS() {
				return "TLS off"
			}
			return ""
		}},
		{"non-loopback TCP control with TLS but no token", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol_tcp: 192.0.2.1:5380\ncontrol_tls_cert: c.pem\ncontrol_tls_key: k.pem\n", "/etc/x/authdns.yaml:3: control_tcp: needs control_token_file", nil},
		{"TLS certificate without a key", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol_tcp: 192.0.2.1:5380\ncontrol_token_file: t\ncontrol_tls_cert: c.pem\n", "/etc/x/authdns.yaml:5: control_tls_cert: needs control_tls_key too", nil},
		{"TLS without TCP control", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol_tls_cert: c.pem\ncontrol_tls_key: k.pem\n", "/etc/x/authdns.yaml:3: control_tls_cert: needs control_tcp", nil},
		{"TCP control by host name", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol_tcp: localhost:5380\ncontrol_token_file: t\n", "/etc/x/authdns.yaml:3: control_tcp: \"localhost:5380\": want an IP address", nil},
		{"TCP control without a token", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol_tcp: 127.0.0.1:5380\n", "/etc/x/authdns.yaml:3: control_tcp: needs control_token_file", nil},
		{"bad metrics address", "listen: [\"127.0.0.1:53\"]\nzones: z\nmetrics: nope\n", "/etc/x/authdns.yaml:3: metrics: want host:port", nil},
		{"unknown key", "listen: [\"127.0.0.1:53\"]\nzones: z\nlog_format: json\n", "/etc/x/authdns.yaml:3: log_format: unknown key", nil},
		{"max_stage_bytes default", "listen: [\"127.0.0.1:53\"]\nzones: z\n", "", func(c *Config) string {
			if c.MaxStageBytes != DefaultMaxStageBytes {
				return fmt.Sprint(c.MaxStageBytes)
			}
			return ""
		}},
		{"max_stage_bytes", "listen: [\"127.0.0.1:53\"]\nzones: z\nmax_stage_bytes: 1GiB\n", "", func(c *Config) string {
			if c.MaxStageBytes != 1<<30 {
				return fmt.Sprint(c.MaxStageBytes)
			}
			return ""
		}},
		{"client certificates instead of a token", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol_tcp: 192.0.2.1:5380\ncontrol_tls_cert: c.pem\ncontrol_tls_key: k.pem\ncontrol_client_ca: clients.pem\n", "", func(c *Config) string {
			if c.ControlClientCA != "/etc/x/clients.pem" || c.ControlTokenFile != "" {
				return fmt.Sprintf("%+v", c)
			}
			return ""
		}},
		{"client certificates without TLS", "listen: [\"127.0.0.1:53\"]\nzones: z\ncontrol_tcp: 127.0.0.1:5380\ncontrol_token_file: t\ncontrol_client_ca: clients.pem\n", "/etc/x/authdns.yaml:5: control_client_ca: needs control_tcp with control_tls_cert", nil},
		{"TCP per-client defaults", "listen: [\"127.0.0.1:53\"]\nzones: z\n", "", func(c *Config) string {
			if c.MaxTCPClientsPerIP != 16 || c.TCPClientIPv4Prefix != 32 || c.TCPClientIPv6Prefix != 64 {
				return fmt.Sprint(c.MaxTCPClientsPerIP, c.TCPClientIPv4Prefix, c.TCPClientIPv6Prefix)
			}
			return ""
		}},
		{"TCP per-client limits", "listen: [\"127.0.0.1:53\"]\nzones: z\nmax_tcp_clients_per_ip: 4\ntcp_client_ipv4_prefix: 24\ntcp_client_ipv6_prefix: 56\n", "", func(c *Config) string {
			if c.MaxTCPClientsPerIP != 4 || c.TCPClientIPv4Prefix != 24 || c.TCPClientIPv6Prefix != 56 {
				return fmt.Sprint(c.MaxTCPClientsPerIP, c.TCPClientIPv4Prefix, c.TCPClientIPv6Prefix)
			}
			return ""
		}},
		{"bad max_tcp_clients_per_ip", "listen: [\"127.0.0.1:53\"]\nzones: z\nmax_tcp_clients_per_ip: 0\n", "/etc/x/authdns.yaml:3: max_tcp_clients_per_ip: want a positive number", nil},
		{"bad tcp_client_ipv4_prefix", "listen: [\"127.0.0.1:53\"]\nzones: z\ntcp_client_ipv4_prefix: 33\n", "/etc/x/authdns.yaml:3: tcp_client_ipv4_prefix: want a prefix length from 8 to 32", nil},
		{"bad tcp_client_ipv6_prefix", "listen: [\"127.0.0.1:53\"]\nzones: z\ntcp_client_ipv6_prefix: /64\n", "/etc/x/authdns.yaml:3: tcp_client_ipv6_prefix: want a prefix length from 16 to 128", nil},
		{"bad max_stage_bytes", "listen: [\"127.0.0.1:53\"]\nzones: z\nmax_stage_bytes: lots\n", "/etc/x/authdns.yaml:3: max_stage_bytes: want a size such as 256MiB", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig("/etc/x/authdns.yaml", []byte(tc.yaml))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tc.check(c); msg != "" {
				t.Error(msg)
			}
			if len(c.Digest) != 64 {
				t.Errorf("digest %q", c.Digest)
			}
		})
	}
}

func TestCheckReportsEveryPart(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeData(t, data, 1, "broken IN A 999.1.1.1\n")
	os.WriteFile(filepath.Join(data, "admin_state"), []byte("site/x => SIDEWAYS\n"), 0o644)
	os.WriteFile(filepath.Join(data, "nets.yaml"), []byte("10.0.0.0/8: [dc2]\nnot-a-prefix: [dc1]\n"), 0o644)
	cfg, err := ParseConfig(filepath.Join(dir, "authdns.yaml"), []byte("listen: [\"127.0.0.1:53\"]\ndata: data\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Check(cfg, quietLog())
	if err == nil {
		t.Fatal("Check accepted broken data")
	}
	for _, want := range []string{"data/admin_state:1:", "data/nets.yaml:2:", "data/zones/example.com:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestDataGeoIPDBDir(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writeData(t, data, 1, "")
	// A relative database path resolves against geoip_db_dir, not DIR.
	geo := strings.Replace(geoYAML(), filepath.Join(repoRoot(), "config", "geoip", "default-city.mmdb"), "default-city.mmdb", 1)
	os.WriteFile(filepath.Join(data, "geoip.yaml"), []byte(geo), 0o644)
	cfg, _ := ParseConfig(filepath.Join(dir, "authdns.yaml"), []byte("listen: [\"127.0.0.1:53\"]\ndata: data\ngeoip_db_dir: "+filepath.Join(repoRoot(), "config", "geoip")+"\n"))
	if _, err := Check(cfg, quietLog()); err != nil {
		t.Fatalf("with geoip_db_dir: %v", err)
	}
	cfg.GeoIPDBDir = dir
	if _, err := Check(cfg, quietLog()); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "default-city.mmdb")) {
		t.Fatalf("without the database: %v", err)
	}
}

// YAML syntax errors read file:line: YAML syntax: reason at the
// problem's own line (a list left open: the bracket's), in authdns.yaml,
// DIR/geoip.yaml and nets files alike.
func TestYAMLSyntaxErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name, file, content, want string
	}{
		{"authdns.yaml, unclosed list on line 1", "authdns.yaml", "listen: [\"127.0.0.1:0\"\ndata: data\n",
			"authdns.yaml:1: YAML syntax: ',' or ']' must be specified"},
		{"authdns.yaml, bad indentation on line 3", "authdns.yaml", "listen: [\"127.0.0.1:0\"]\ndata: data\n udp_sockets: 1\n",
			"authdns.yaml:3: YAML syntax: mapping value is not allowed in this context"},
		{"geoip.yaml, unclosed list on line 4", "data/geoip.yaml", "maps:\n  m:\n    geoip2_db: x.mmdb\n    datacenters: [dc1, dc2\n    nets: nets.yaml\n",
			"data/geoip.yaml:4: YAML syntax: ',' or ']' must be specified"},
		{"nets file, stray entry on line 2", "data/nets.yaml", "10.0.0.0/8: [dc2]\n- 11.0.0.0/8\n",
			"data/nets.yaml:2: geoip.maps.m.nets: YAML syntax: non-map value is specified"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeData(t, filepath.Join(dir, "data"), 1, "")
			os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte("listen: [\"127.0.0.1:0\"]\ndata: data\n"), 0o644)
			os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.content), 0o644)
			cfg, err := LoadConfig(filepath.Join(dir, "authdns.yaml"))
			if err == nil {
				_, err = Check(cfg, quietLog())
			}
			if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, tc.want)) {
				t.Errorf("err = %v\nwant %s", err, filepath.Join(dir, tc.want))
			}
		})
	}
}

// checkconf builds the geo config once: every map is compiled, and
// logged, once.
func TestCheckCompilesEachMapOnce(t *testing.T) {
	dir := t.TempDir()
	writeData(t, filepath.Join(dir, "data"), 1, "")
	cfg, err := ParseConfig(filepath.Join(dir, "authdns.yaml"), []byte("listen: [\"127.0.0.1:0\"]\ndata: data\n"))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if _, err := Check(cfg, slog.New(slog.NewTextHandler(&log, nil))); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log.String(), `msg="geoip map compiled"`); n != 1 {
		t.Errorf("the one map was compiled %d times:\n%s", n, log.String())
	}
}
