package gdnsdimport

import (
	"strings"
	"testing"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		name, options string
		want          map[string]string // authdns.yaml key → values()
		absent        []string          // keys that must not be written
		notes         [][]string        // each: parts of one note line
	}{
		{"listen any", `listen = any`,
			map[string]string{"listen": "[0.0.0.0:53 [::]:53]"}, nil, nil},
		{"listen unset", ``,
			map[string]string{"listen": "[0.0.0.0:53 [::]:53]", "chaos_response": "gdnsd/3"}, nil,
			[][]string{{"option listen: warning: not set"}}},
		{"listen specs and dns_port", "dns_port = 5353\nlisten = [ 192.0.2.1, 192.0.2.2:54, \"[2001:db8::1]:55\", 2001:db8::2 ]",
			map[string]string{"listen": "[192.0.2.1:5353 192.0.2.2:54 [2001:db8::1]:55 [2001:db8::2]:5353]"}, nil,
			[][]string{{"config:2: option dns_port: not needed"}}},
		{"listen hash with per-address options", "listen => {\n 192.0.2.1 => { udp_threads => 4 }\n 192.0.2.2:8053 => { tcp_proxy => true }\n}",
			map[string]string{"listen": "[192.0.2.1:53 192.0.2.2:8053]"}, nil,
			[][]string{{"config:3: option listen.192.0.2.1.udp_threads: warning: not translated"},
				{"config:4: option listen.192.0.2.2:8053.tcp_proxy: error: not translated: authdns does not accept the PROXY protocol"}}},
		{"bad listen address", `listen = 192.0.2.300`, nil, nil, [][]string{{"config:2: option listen: error:", "192.0.2.300"}}},
		{"nsid hex", `nsid = 6578616d706c65`, map[string]string{"nsid": "example"}, nil,
			[][]string{{"config:2: option nsid: warning: translated as nsid: \"example\""}}},
		{"nsid hex not text", `nsid = ff00`, nil, []string{"nsid"}, [][]string{{"option nsid: error: not translated"}}},
		{"nsid_ascii", `nsid_ascii = "ns1 x"`, map[string]string{"nsid": "ns1 x"}, nil, nil},
		{"chaos_response", `chaos_response = "hello"`, map[string]string{"chaos_response": "hello"}, nil, nil},
		{"gdnsd's answers by default", ``, map[string]string{"cname_chain": "false", "additional_addresses": "false"}, nil, nil},
		{"experimental_no_chain false", `experimental_no_chain = false`, map[string]string{"cname_chain": "true", "additional_addresses": "false"}, nil, nil},
		{"experimental_no_chain true", `experimental_no_chain = TRUE`, map[string]string{"cname_chain": "false"}, nil, nil},
		{"zone options", "zones_default_ttl = 0x100\nzones_strict_data = TRUE",
			map[string]string{"zones_default_ttl": "256", "zones_strict_data": "true"}, nil, nil},
		{"max_edns_response octal", `max_edns_response = 02000`, map[string]string{"max_udp_size": "1024"}, nil, nil},
		{"max_edns_response_v6 same", "max_edns_response = 1400\nmax_edns_response_v6 = 1400",
			map[string]string{"max_udp_size": "1400"}, nil, [][]string{{"option max_edns_response_v6: not needed"}}},
		{"max_edns_response_v6 differs", `max_edns_response_v6 = 1400`, nil, []string{"max_udp_size"},
			[][]string{{"config:2: option max_edns_response_v6: error:", "(max_edns_response: 1232)"}}},
		{"tcp_timeout", `tcp_timeout = 60`, map[string]string{"tcp_idle_timeout": "60s"}, nil, nil},
		{"tcp_timeout out of range", `tcp_timeout = 4`, nil, []string{"tcp_idle_timeout"},
			[][]string{{"option tcp_timeout: error: want a whole number from 5 to 1800"}}},
		{"tcp clients", "listen = [192.0.2.1, 192.0.2.2]\ntcp_clients_per_thread = 100\ntcp_threads = 3",
			map[string]string{"max_tcp_clients": "600"}, nil,
			[][]string{{"config:3: option tcp_clients_per_thread: warning: translated as max_tcp_clients: 600 (100 per thread × 3 tcp_threads × 2 addresses)"},
				{"config:4: option tcp_threads: not needed"}}},
		{"tcp_threads alone", `tcp_threads = 4`, nil, []string{"max_tcp_clients"}, [][]string{{"config:2: option tcp_threads: not needed"}}},
		{"udp_rcvbuf", `udp_rcvbuf = 1048576`, map[string]string{"udp_rcvbuf": "1048576"}, nil, nil},
		{"udp_rcvbuf small", `udp_rcvbuf = 4096`, map[string]string{"udp_rcvbuf": "65536"}, nil,
			[][]string{{"option udp_rcvbuf: warning: translated as udp_rcvbuf: 65536"}}},
		{"disable_cookies", `disable_cookies = true`, map[string]string{"cookies": "false"}, nil, nil},
		{"cookie_key_file", `cookie_key_file = /etc/gdnsd/cookie.key`, nil, nil,
			[][]string{{"option cookie_key_file: warning: not translated", "cookie_secret_file"}}},
		{"max_nocookie_response", `max_nocookie_response = 512`, nil, nil,
			[][]string{{"option max_nocookie_response: error: not translated"}}},
		{"edns_client_subnet off", `edns_client_subnet = false`, nil, nil,
			[][]string{{"option edns_client_subnet: error: not translated"}}},
		{"edns_client_subnet on", `edns_client_subnet = true`, nil, nil, nil},
		{"not needed", "udp_threads = 4\nrun_dir = /run/gdnsd\nstate_dir = /var/lib/gdnsd\nzones_rfc1035_threads = 2",
			nil, []string{"udp_sockets", "run_dir"},
			[][]string{{"config:2: option udp_threads: not needed"}, {"config:3: option run_dir: not needed"},
				{"config:4: option state_dir: not needed"}, {"config:5: option zones_rfc1035_threads: not needed"}}},
		{"TTL clamps at gdnsd's defaults", "min_ttl = 5\nmax_ttl = 3600000\nmax_ncache_ttl = 10800", nil, nil,
			[][]string{{"config:2: option min_ttl: not needed"}, {"config:3: option max_ttl: not needed"}, {"config:4: option max_ncache_ttl: not needed"}}},
		{"other TTL clamps", `min_ttl = 30`, nil, nil,
			[][]string{{"config:2: option min_ttl: error: not translated: authdns clamps zone TTLs with gdnsd's default, 5"}}},
		{"removed 2.x option", `username = gdnsd`, nil, nil,
			[][]string{{"config:2: option username: not needed: a gdnsd 2.x option"}}},
		{"unknown option", `no_such_option = 1`, nil, nil,
			[][]string{{"config:2: option no_such_option: error: unknown option"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, res := translated(t, map[string]string{"config": "options => {\n" + tt.options + "\n}\n"}, Options{})
			cfg := decoded(t, tr, "authdns.yaml")
			for k, w := range tt.want {
				if got := values(at(t, cfg, k)); got != w {
					t.Errorf("%s: got %s, want %s\n%s", k, got, w, tr.files["authdns.yaml"])
				}
			}
			for _, k := range tt.absent {
				if cfg.Get(k) != nil {
					t.Errorf("%s written:\n%s", k, tr.files["authdns.yaml"])
				}
			}
			for _, n := range tt.notes {
				hasNote(t, res.Notes, n...)
			}
			if len(tt.notes) == 0 {
				for _, l := range noteLines(res.Notes) {
					if !strings.HasPrefix(l, "option listen: warning: not set") {
						t.Errorf("unexpected note: %s", l)
					}
				}
			}
			wantFail := false
			for _, n := range tt.notes {
				wantFail = wantFail || strings.Contains(n[0], "error:")
			}
			if res.Failed() != wantFail {
				t.Errorf("Failed() = %v", res.Failed())
			}
		})
	}
}

func TestListenFlagReplacesOptions(t *testing.T) {
	tr, res := translated(t, map[string]string{"config": "options => { listen => 192.0.2.1 }\n"},
		Options{Listen: []string{"127.0.0.1:5300", "[::1]:5300"}})
	if got := values(at(t, decoded(t, tr, "authdns.yaml"), "listen")); got != "[127.0.0.1:5300 [::1]:5300]" {
		t.Errorf("listen: %s", got)
	}
	hasNote(t, res.Notes, "config:1: option listen: warning: replaced by --listen 127.0.0.1:5300,[::1]:5300")
}

func TestTopLevelKeys(t *testing.T) {
	_, res := translated(t, map[string]string{"config": "options => {}\nbogus => {}\nplugins => { nope => {} }\n"}, Options{})
	hasNote(t, res.Notes, "config:2: option bogus: error: gdnsd refuses this key")
	hasNote(t, res.Notes, "config:3: option plugins.nope: error: gdnsd has no plugin")
}
