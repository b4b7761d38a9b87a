package gdnsdimport

import (
	"strings"
	"testing"
)

func TestServiceTypes(t *testing.T) {
	tr, res := translated(t, map[string]string{"config": `options => { state_dir => /srv/gdnsd }
service_types => {
  # the web check
  www_http => { plugin => http_status, port => 0x50, interval => 010, ok_codes => [ 200, 0x12D ], url_path => /health }
  conf => { plugin => extfile, file => discovery-states, direct => TRUE, def_ttl => 30 }
  abs => { plugin => extfile, file => /run/states }
  cmd => { plugin => extmon, cmd => [ /bin/check, "%%ITEM%%" ], max_proc => 4 }
  never => { plugin => null, interval => 5 }
}
plugins => { extmon => { helper_path => /usr/libexec/gdnsd/gdnsd_extmon_helper } }
`}, Options{StateDir: ""})
	cfg := decoded(t, tr, "authdns.yaml")
	for path, want := range map[string]string{
		"service_types.www_http": "{plugin: http_status, port: 80, interval: 8, ok_codes: [200 301], url_path: /health}",
		"service_types.conf":     "{plugin: extfile, file: /srv/gdnsd/extfile/discovery-states, direct: true, def_ttl: 30}",
		"service_types.abs":      "{plugin: extfile, file: /run/states}",
		"service_types.cmd":      "{plugin: extmon, cmd: [/bin/check %%ITEM%%]}",
		"service_types.never":    "{plugin: static, state: down, ttl: 100}",
	} {
		if got := values(at(t, cfg, path)); got != want {
			t.Errorf("%s: got %s, want %s", path, got, want)
		}
	}
	if c := cfg.Get("service_types").Key("www_http").Comment; c != "# the web check" {
		t.Errorf("comment %q", c)
	}
	hasNote(t, res.Notes, "config:5: option service_types.conf.file: warning: translated as /srv/gdnsd/extfile/discovery-states")
	hasNote(t, res.Notes, "config:7: option service_types.cmd.max_proc: warning: not translated")
	hasNote(t, res.Notes, "config:8: option service_types.never: warning: plugin null", "ttl 100")
	hasNote(t, res.Notes, "config:10: option plugins.extmon.helper_path: not needed")
	if res.Failed() {
		t.Errorf("failed:\n%s", strings.Join(noteLines(res.Notes), "\n"))
	}
}

// The resolver plugins go to plugins.yaml in gdnsd's structure, with
// numbers and booleans as gdnsd reads them and strings YAML would misread
// quoted.
func TestResolverPlugins(t *testing.T) {
	tr, res := translated(t, map[string]string{"config": `plugins => {
  metafo => {
    resources => {
      # discovery
      disc-api => {
        datacenters => [ eqiad, codfw ]
        skip_first => FALSE
        dcmap => {
          eqiad => 192.0.2.1
          codfw => %geoip!text-addrs
          esams => !other
          ulsfo => api.example.net.
          drmrs => { plugin => weighted, a => [ 192.0.2.9, 010 ] }
        }
      }
    }
  }
  multifo => {
    up_thresh => .25
    web => { lb1 => 192.0.2.1, lb2 => 192.0.2.2 }
    web3 => { addrs_v4 => { a => 192.0.2.1 }, addrs_v6 => [ 2001:db8::1 ], service_types => [ www_http ] }
  }
  simplefo => { sfo => { primary => 192.0.2.1, secondary => 192.0.2.2 } }
  weighted => {
    multi => True
    w => { a => [ 192.0.2.1, 0x10 ], b => [ 192.0.2.2, 20 ] }
  }
  static => { st => 192.0.2.1, yes => no }
  reflect => {}
}
`}, Options{})
	if !strings.Contains(string(tr.files["authdns.yaml"]), "\nplugins: plugins.yaml\n") {
		t.Errorf("authdns.yaml does not name plugins.yaml:\n%s", tr.files["authdns.yaml"])
	}
	p := decoded(t, tr, "plugins.yaml")
	for path, want := range map[string]string{
		"metafo.resources.disc-api": "{datacenters: [eqiad codfw], skip_first: false, dcmap: {eqiad: 192.0.2.1, codfw: %geoip!text-addrs, esams: !other, ulsfo: api.example.net., drmrs: {plugin: weighted, a: [192.0.2.9 8]}}}",
		"multifo":                   "{up_thresh: 0.25, web: {lb1: 192.0.2.1, lb2: 192.0.2.2}, web3: {addrs_v4: {a: 192.0.2.1}, addrs_v6: [2001:db8::1], service_types: [www_http]}}",
		"simplefo":                  "{sfo: {primary: 192.0.2.1, secondary: 192.0.2.2}}",
		"weighted":                  "{multi: true, w: {a: [192.0.2.1 16], b: [192.0.2.2 20]}}",
		"static":                    "{st: 192.0.2.1, yes: no}",
		"reflect":                   "{}",
	} {
		if got := values(at(t, p, path)); got != want {
			t.Errorf("%s: got %s, want %s", path, got, want)
		}
	}
	text := string(tr.files["plugins.yaml"])
	for _, w := range []string{`codfw: "%geoip!text-addrs"`, `esams: "!other"`, `"yes": "no"`, "  # discovery\n"} {
		if !strings.Contains(text, w) {
			t.Errorf("plugins.yaml lacks %s:\n%s", w, text)
		}
	}
	if len(res.Notes) != 1 { // listen not set
		t.Errorf("notes:\n%s", strings.Join(noteLines(res.Notes), "\n"))
	}
}

func TestGeoIPStanza(t *testing.T) {
	tr, res := translated(t, map[string]string{"config": `plugins => { geoip => {
  undefined_datacenters_ok => TRUE
  service_types => up
  up_thresh => 5e-1
  maps => {
    m => {
      geoip2_db => /abs/City.mmdb
      datacenters => [ a, b ]
      map => { EU => { NO => [b], yes => a, 010 => [] } }
      nets => { 10.0.0.0/8 => a, "2001:db8::/32" => [] }
      auto_dc_coords => { a => [ 1e1, -0x10 ], b => [ 52.3, 4.94 ] }
      auto_dc_limit => 0x2
      ignore_ecs => FALSE
      bogus => 1
    }
  }
  resources => { r => { map => m, skip_first => TRUE, dcmap => { a => 192.0.2.1, b => %reflect!dns } } }
} }
`}, Options{})
	g := decoded(t, tr, "geoip.yaml")
	for path, want := range map[string]string{
		"undefined_datacenters_ok": "true",
		"up_thresh":                "0.5",
		"maps.m":                   "{geoip2_db: /abs/City.mmdb, datacenters: [a b], map: {EU: {NO: [b], yes: a, 010: []}}, nets: {10.0.0.0/8: a, 2001:db8::/32: []}, auto_dc_coords: {a: [10 -16], b: [52.3 4.94]}, auto_dc_limit: 2, ignore_ecs: false}",
		"resources.r":              "{map: m, skip_first: true, dcmap: {a: 192.0.2.1, b: %reflect!dns}}",
	} {
		if got := values(at(t, g, path)); got != want {
			t.Errorf("%s: got %s, want %s", path, got, want)
		}
	}
	hasNote(t, res.Notes, "config:14: option plugins.geoip.maps.m.bogus: error: not translated: gdnsd refuses this map key")
}
