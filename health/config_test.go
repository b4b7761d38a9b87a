package health

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/conf"
)

func parseTypes(t *testing.T, text string) (map[string]*ServiceType, error) {
	t.Helper()
	root, err := conf.DecodeYAML("authdns.yaml", []byte(text))
	if err != nil {
		t.Fatalf("bad test YAML: %v", err)
	}
	return ParseServiceTypes(root.Get("service_types"), "service_types")
}

func TestParseServiceTypesDefaults(t *testing.T) {
	types, err := parseTypes(t, `service_types:
  www_http: {plugin: http_status, url_path: /healthz, vhost: www.example.org}
  edge_tcp: {plugin: tcp_connect, port: 443, interval: 3}
  ext: {plugin: extfile, file: /var/lib/health/www.states, direct: true, def_ttl: 60, def_down: true}
  mon: {plugin: extmon, cmd: [/bin/check, "%%ITEM%%"]}
  fixed: {plugin: static, state: down, ttl: 30}
`)
	if err != nil {
		t.Fatal(err)
	}
	w := types["www_http"]
	if w.Plugin != "http_status" || w.Port != 80 || w.URLPath != "/healthz" || w.VHost != "www.example.org" ||
		!slices.Equal(w.OKCodes, []int{200}) || w.Interval != 10*time.Second || w.Timeout != 5*time.Second ||
		w.UpThresh != 20 || w.OKThresh != 10 || w.DownThresh != 10 || w.Pos.Line != 2 || w.Pos.File != "authdns.yaml" {
		t.Errorf("www_http: %+v", w)
	}
	if e := types["edge_tcp"]; e.Port != 443 || e.Interval != 3*time.Second || e.Timeout != time.Second {
		t.Errorf("edge_tcp: timeout is interval/2 in whole seconds: %+v", e)
	}
	if e := types["ext"]; e.File != "/var/lib/health/www.states" || !e.Direct || e.DefTTL != 60 || !e.DefDown {
		t.Errorf("ext: %+v", e)
	}
	if e := types["mon"]; !slices.Equal(e.Cmd, []string{"/bin/check", "%%ITEM%%"}) || e.Direct {
		t.Errorf("mon: %+v", e)
	}
	if e := types["fixed"]; e.State != "DOWN" || e.TTL != 30 {
		t.Errorf("fixed: %+v", e)
	}
	if b := BuiltinTypes(); b["up"].Plugin != "up" || b["down"].Plugin != "down" || len(b) != 2 {
		t.Errorf("builtins: %v", b)
	}
}

func TestParseServiceTypesErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"up: {plugin: tcp_connect, port: 1}", `authdns.yaml:2: service_types.up: "up" is built in and cannot be redefined`},
		{"down: {plugin: static, state: up}", `authdns.yaml:2: service_types.down: "down" is built in`},
		{"a/b: {plugin: static, state: up}", `service_types.a/b: a service type name may not`},
		{"e: {plugin: extfile, file: f, def_ttl: 0}", `authdns.yaml:2: service_types.e.def_ttl:`},
		{"e: {plugin: extfile, file: f, def_down: maybe}", `authdns.yaml:2: service_types.e.def_down: expected true or false`},
		{"s: {plugin: static, state: up, ttl: -1}", `authdns.yaml:2: service_types.s.ttl:`},
		{"x: {port: 80}", `authdns.yaml:2: service_types.x.plugin: required (one of http_status, tcp_connect`},
		{"x: {plugin: ping}", `authdns.yaml:2: service_types.x.plugin: unknown plugin "ping"`},
		{"x: {plugin: tcp_connect}", `authdns.yaml:2: service_types.x.port: required by plugin tcp_connect`},
		{"x: {plugin: extfile}", `service_types.x.file: required by plugin extfile`},
		{"x: {plugin: extmon}", `service_types.x.cmd: required by plugin extmon`},
		{"x: {plugin: static}", `service_types.x.state: required by plugin static`},
		{"x: {plugin: static, state: sideways}", `service_types.x.state: expected up or down, found "sideways"`},
		{"x: {plugin: tcp_connect, port: 0}", `service_types.x.port: expected a whole number from 1 to 65534, found "0"`},
		{"x: {plugin: tcp_connect, port: 1, interval: 1}", `service_types.x.interval: expected a whole number from 2 to 3600, found "1"`},
		{"x: {plugin: tcp_connect, port: 1, interval: 3601}", `service_types.x.interval: expected a whole number from 2 to 3600`},
		{"x: {plugin: tcp_connect, port: 1, timeout: 0}", `service_types.x.timeout: expected a whole number from 1 to 300`},
		{"x: {plugin: tcp_connect, port: 1, timeout: 10}", `service_types.x.timeout: must be less than interval (10)`},
		{"x: {plugin: tcp_connect, port: 1, up_thresh: 65536}", `service_types.x.up_thresh: expected a whole number from 1 to 65535`},
		{"x: {plugin: tcp_connect, port: 1, ok_thresh: 0}", `service_types.x.ok_thresh: expected a whole number from 1 to 65535`},
		{"x: {plugin: tcp_connect, port: 1, down_thresh: x}", `service_types.x.down_thresh: expected a whole number`},
		{"x: {plugin: http_status, ok_codes: []}", `service_types.x.ok_codes: expected at least one HTTP status code`},
		{"x: {plugin: http_status, ok_codes: [200, 99]}", `service_types.x.ok_codes: expected a whole number from 100 to 999, found "99"`},
		{"x: {plugin: tcp_connect, port: 1, url_path: /}", `authdns.yaml:2: service_types.x.url_path: unknown key (expected plugin, interval, timeout, up_thresh, ok_thresh, down_thresh or port)`},
		{"x: {plugin: extfile, file: f, direct: maybe}", `service_types.x.direct: expected true or false`},
		{"x: [a]", `authdns.yaml:2: service_types.x: expected a mapping with at least plugin`},
	} {
		_, err := parseTypes(t, "service_types:\n  "+tc.text+"\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.text, err, tc.want)
		}
	}
	if _, err := parseTypes(t, "service_types: [a]\n"); err == nil || !strings.Contains(err.Error(), "authdns.yaml:1: service_types: expected a mapping of service type names") {
		t.Errorf("a list: %v", err)
	}
	if types, err := parseTypes(t, "service_types:\n"); err != nil || len(types) != 0 {
		t.Errorf("empty: %v %v", types, err)
	}
}
