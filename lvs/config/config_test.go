package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

const good = `# production-like
[global]
bgp = yes
bgp-local-asn = 4200000001
bgp-peer-address = ["10.0.0.1", "2001:db8::1"]
bgp-as-path = 64600 64601
bgp-med = 100
bgp-nexthop-ipv4 = 10.0.0.2
bgp-nexthop-ipv6 = 2001:db8::2
bgp-local-ips = ["10.0.0.2", "2001:db8::2"]
bgp-communities = ["64600:1", "65535:65535"]
instrumentation = yes
instrumentation_port = 9191

[DEFAULT]
vip = 10.2.2.1

[apaches_80]
protocol = tcp
ip = %(vip)s
port = 80
scheduler = wrr
config = file:///etc/pybal/pools/apaches
depool-threshold = .7
monitors = ["IdleConnection", "ProxyFetch"]
proxyfetch.url = ["http://www.wikidata.org/wiki/Special:BlankPage"]
proxyfetch.http_status = 302
rise = 2
fall = 3
drain-on-depool = on

[dns_53_udp]
protocol = udp
ip = 2001:db8::53
port = 53
scheduler = mh
mh-port = yes
ops = true
config = http://config-master/pools/dns.json
bgp-med = 7
bgp-withdraw-on-down = yes
`

func TestParseGood(t *testing.T) {
	c, err := Parse("pybal.conf", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	g := c.Global
	wantBGP := bgp.Config{
		Enabled: true, LocalASN: 4200000001,
		Peers:    []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")},
		PeerPort: 179, ASPath: []uint32{64600, 64601}, MED: 100,
		NextHopV4: netip.MustParseAddr("10.0.0.2"), NextHopV6: netip.MustParseAddr("2001:db8::2"),
		LocalIPs: []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("2001:db8::2")}, LocalPort: 179, HoldTime: 30 * time.Second,
		Communities: []bgp.Community{{ASN: 64600, Value: 1}, {ASN: 65535, Value: 65535}}, RouterID: netip.MustParseAddr("10.0.0.2"),
	}
	if gotS, wantS := sprint(g.BGP), sprint(wantBGP); gotS != wantS {
		t.Errorf("bgp:\n got %s\nwant %s", gotS, wantS)
	}
	if g.ControlSocket != DefaultControlSocket || g.ManualStateFile != DefaultManualStateFile {
		t.Errorf("control socket %q, state file %q: want the defaults", g.ControlSocket, g.ManualStateFile)
	}
	if !g.Instrumentation || g.InstrumentationPort != 9191 || len(g.InstrumentationIPs) != 2 {
		t.Errorf("instrumentation: %+v", g)
	}
	if len(c.Services) != 2 {
		t.Fatalf("services: %d", len(c.Services))
	}
	a := c.Services[0]
	if a.Name != "apaches_80" || a.Key != (ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 80}) ||
		a.Scheduler != "wrr" || a.DepoolThreshold != 0.7 || a.Rise != 2 || a.Fall != 3 || !a.DrainOnDepool ||
		a.BGPMED != 100 || !a.BGP || a.BGPWithdrawOnDown || a.Forwarding != ipvs.DirectRoute || a.CheckPort() != 80 {
		t.Errorf("apaches_80: %+v", a)
	}
	if u := a.MonitorOptions["proxyfetch"]["url"]; u.Value != `["http://www.wikidata.org/wiki/Special:BlankPage"]` || u.Pos.Line != 26 {
		t.Errorf("proxyfetch.url = %+v", u)
	}
	d := c.Services[1]
	if d.Key.Protocol != ipvs.UDP || !d.OnePacket || !d.MHPort || d.BGPMED != 7 || !d.BGPWithdrawOnDown || d.DepoolThreshold != 0.5 {
		t.Errorf("dns: %+v", d)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings) // [DEFAULT] keys are shared, not unknown
	}
	c2, err := Parse("f", []byte("[global]\nbpg = yes\n"))
	if err != nil || len(c2.Warnings) != 1 || !strings.HasPrefix(c2.Warnings[0], "f:2: bpg: unknown key") {
		t.Errorf("typo warning: %v %v", c2.Warnings, err)
	}
}

func sprint(v any) string { return strings.ReplaceAll(strings.TrimSpace(fmtv(v)), "\n", " ") }

func TestParseErrors(t *testing.T) {
	svc := "[s]\nprotocol = tcp\nip = 10.0.0.1\nport = 80\nscheduler = wrr\nconfig = file:///x\n"
	tests := []struct {
		name, text, want string
	}{
		{"bool", "[global]\ninstrumentation = maybe\n", "f:2: instrumentation: not a boolean"},
		{"scheduler", strings.Replace(svc, "wrr", "fifo", 1), "f:5: scheduler: unknown scheduler"},
		{"protocol", strings.Replace(svc, "tcp", "sctp", 1), "f:2: protocol: must be tcp or udp"},
		{"ip", strings.Replace(svc, "10.0.0.1", "10.0.0", 1), "f:3: ip: bad IP address"},
		{"port", strings.Replace(svc, "80", "80000", 1), "f:4: port: not an unsigned 16-bit"},
		{"missing config", strings.Replace(svc, "config = file:///x\n", "", 1), "f:1: config: required in [s]"},
		{"pool url", strings.Replace(svc, "file:///x", "ftp://x", 1), "f:6: config: pool source"},
		{"threshold", svc + "depool-threshold = 1.5\n", "f:7: depool-threshold: must be a number from 0 to 1"},
		{"monitors eval", svc + "monitors = __import__('os')\n", "f:7: monitors: unexpected"},
		{"ops tcp", svc + "ops = yes\n", "f:7: ops: one-packet scheduling is for UDP"},
		{"mh-port", svc + "mh-port = yes\n", "f:7: mh-port: only valid with scheduler = mh"},
		{"forwarding", svc + "forwarding = magic\n", "f:7: forwarding: must be dr, tun or nat"},
		{"rise", svc + "rise = 0\n", "f:7: rise: must be 1-100"},
		{"dup key", svc + "port = 81\n", "f:7: port: duplicate key"},
		{"dup service", svc + strings.Replace(svc, "[s]", "[t]", 1), "f:7: service [t] has the same"},
		{"dup section", svc + "[s]\n", "f:7: duplicate section"},
		{"garbage", "[global]\nfoo\n", "f:2: expected 'key = value'"},
		{"no section", "a = b\n", "f:1: option outside"},
		{"asn", "[global]\nbgp-local-asn = 4294967296\n", "f:2: bgp-local-asn: not an unsigned 32-bit"},
		{"bgp missing peer", "[global]\nbgp = yes\nbgp-local-asn = 64600\n", "f:1: bgp-peer-address: required"},
		{"peer", "[global]\nbgp-peer-address = [\"10.0.0.300\"]\n", "f:2: bgp-peer-address: bad IP address"},
		{"community", "[global]\nbgp-communities = [\"64600\"]\n", "f:2: bgp-communities: bad community"},
		{"nexthop family", "[global]\nbgp-nexthop-ipv4 = ::1\n", "f:2: bgp-nexthop-ipv4: ::1 is not an IPv4"},
		{"med conflict", svc + "bgp-med = 5\n" + strings.Replace(strings.Replace(svc, "[s]", "[t]", 1), "80", "443", 1) + "bgp-med = 6\n",
			"f:14: bgp-med: service [t] has MED 6 but [s]"},
		{"nexthop missing", "[global]\nbgp = yes\nbgp-local-asn = 1\nbgp-peer-address = 10.0.0.9\nbgp-router-id = 10.0.0.3\nbgp-nexthop-ipv6 = ::2\n" + svc,
			"f:9: ip: service [s] announces IPv4 VIP 10.0.0.1 but [global] has no bgp-nexthop-ipv4"},
		{"bgp validate", "[global]\nbgp = yes\nbgp-local-asn = 1\nbgp-peer-address = 10.0.0.9\nbgp-nexthop-ipv4 = 10.0.0.2\nbgp-hold-time = 70000\n",
			"f:6: bgp-hold-time: "},
		{"interp", "[global]\ninstrumentation = %(nope)s\n", "f:2: instrumentation: interpolation references unknown key"},
		{"pool-tls-insecure", svc + "pool-tls-insecure = maybe\n", "f:7: pool-tls-insecure: not a boolean"},
		{"pool-ca-file", "[global]\npool-ca-file =\n", "f:2: pool-ca-file: empty"},
		{"control-socket", "[global]\ncontrol-socket =\n", "f:2: control-socket: empty"},
		{"manual-depool-state", "[global]\nmanual-depool-state = \n", "f:2: manual-depool-state: empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f", []byte(tc.text))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v\nwant prefix %q", err, tc.want)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"t", "true", "Y", "yes", "on", "1"} {
		if b, err := ParseBool(s); !b || err != nil {
			t.Errorf("%q: %v %v", s, b, err)
		}
	}
	for _, s := range []string{"f", "False", "n", "no", "off", "0"} {
		if b, err := ParseBool(s); b || err != nil {
			t.Errorf("%q: %v %v", s, b, err)
		}
	}
	for _, s := range []string{"", "2", "yess", "enabled"} {
		if _, err := ParseBool(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestINIDetails(t *testing.T) {
	c, err := Parse("f", []byte("[global]\n; comment\ninstrumentation: yes ; inline\n[s]\nprotocol = tcp\nip = ::1\nport = 80\nscheduler = rr\nconfig = file:///x\nmonitors = [\"ProxyFetch\",\n    \"IdleConnection\"]\nproxyfetch.url = [\"http://a/%%20\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Global.Instrumentation {
		t.Error("colon separator / inline comment")
	}
	s := c.Services[0]
	if len(s.Monitors) != 2 || s.Monitors[1] != "IdleConnection" {
		t.Errorf("continuation: %v", s.Monitors)
	}
	if s.MonitorOptions["proxyfetch"]["url"].Value != `["http://a/%20"]` {
		t.Errorf("%%%% escape: %v", s.MonitorOptions["proxyfetch"]["url"].Value)
	}
	if s.BGPWithdrawOnDown || !s.BGP {
		t.Error("bgp defaults")
	}
}

func TestInstrumentationAllAddresses(t *testing.T) {
	c, err := Parse("f", []byte("[global]\ninstrumentation_ips = [\"\"]\n"))
	if err != nil || len(c.Global.InstrumentationIPs) != 1 || !c.Global.InstrumentationIPs[0].IsUnspecified() {
		t.Errorf("[\"\"]: %v %v", c, err)
	}
	if _, err := Parse("f", []byte("[global]\ninstrumentation_ips = []\n")); err == nil {
		t.Error("empty list accepted")
	}
}

func TestServiceEqual(t *testing.T) {
	a, _ := Parse("f", []byte(good))
	b, _ := Parse("g", []byte("\n\n"+good))
	if !a.Services[0].Equal(b.Services[0]) {
		t.Error("same settings at other lines must be equal")
	}
	c, _ := Parse("f", []byte(strings.Replace(good, "proxyfetch.http_status = 302", "proxyfetch.http_status = 301", 1)))
	if a.Services[0].Equal(c.Services[0]) {
		t.Error("changed monitor option must differ")
	}
}

// PyBal eval()s list values, so a trailing '#' comment is allowed there;
// a '#' inside a quoted string is part of the value.
func TestListValueComments(t *testing.T) {
	conf := `[global]
instrumentation = yes
instrumentation_ips = ["127.0.0.1", "::1"]  # loopback only
bgp-communities = ["64600:1"]  # 64600:2 later

[s]
protocol = tcp
ip = 10.0.0.1
port = 80
scheduler = rr
config = file:///x
monitors = ["IdleConnection"]  # TCP only
`
	c, err := Parse("f", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Services[0].Monitors; len(m) != 1 || m[0] != "IdleConnection" {
		t.Errorf("monitors = %q", m)
	}
	if ips := c.Global.InstrumentationIPs; len(ips) != 2 {
		t.Errorf("instrumentation_ips = %v", ips)
	}
	if cs := c.Global.BGP.Communities; len(cs) != 1 || cs[0] != (bgp.Community{ASN: 64600, Value: 1}) {
		t.Errorf("bgp-communities = %v", cs)
	}
	c2, err := Parse("f", []byte(strings.Replace(conf, `monitors = ["IdleConnection"]  # TCP only`,
		"monitors = [\"IdleConnection\",  # TCP\n    \"Pro#xy\"]  # done", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if m := c2.Services[0].Monitors; len(m) != 2 || m[1] != "Pro#xy" {
		t.Errorf("continued monitors = %q", m)
	}
}

// etcd:// and etcds:// pools are PyBal's syntax: the path is the key prefix
// of the service's conftool nodes; [global] holds the client's TLS and auth.
func TestEtcdPoolSource(t *testing.T) {
	conf := "[global]\netcd-cacert = /etc/ssl/ca.pem\netcd-user = lvsd\netcd-password-file = /etc/lvsd/pw\n" +
		"[a]\nprotocol = tcp\nip = 10.0.0.1\nport = 80\nscheduler = rr\nconfig = etcds://conf1001,conf1002:4001/conftool/v1/pools/eqiad/appserver/apache2/\n" +
		"[b]\nprotocol = tcp\nip = 10.0.0.1\nport = 81\nscheduler = rr\nconfig = etcd://127.0.0.1:2379/conftool/v1/pools/eqiad/appserver/apache2\n" +
		"[c]\nprotocol = tcp\nip = 10.0.0.1\nport = 82\nscheduler = rr\nconfig = http://config-master/pools/c\n"
	c, err := Parse("pybal.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	e := c.Global.Etcd
	if e.CACert != "/etc/ssl/ca.pem" || e.User != "lvsd" || e.PasswordFile != "/etc/lvsd/pw" || e.Cert != "" || e.Pos["etcd-user"].Line != 3 {
		t.Errorf("etcd settings %+v", e)
	}
	a, b, cs := c.Services[0], c.Services[1], c.Services[2]
	if !a.IsEtcd() || !a.Etcd.TLS || strings.Join(a.Etcd.Endpoints, ",") != "https://conf1001:2379,https://conf1002:4001" ||
		a.Etcd.Prefix != "/conftool/v1/pools/eqiad/appserver/apache2/" || a.Etcd.Layout.Prefix != "/conftool/v1" {
		t.Errorf("a: %+v", a.Etcd)
	}
	if !b.IsEtcd() || b.Etcd.TLS || b.Etcd.Endpoints[0] != "http://127.0.0.1:2379" || b.Etcd.Prefix != a.Etcd.Prefix {
		t.Errorf("b: %+v", b.Etcd)
	}
	if cs.IsEtcd() {
		t.Errorf("c: %+v", cs.Etcd)
	}
	// A TLS key with a plain etcd:// pool is worth a warning; nothing
	// else here is.
	if len(c.Warnings) != 1 || !strings.HasPrefix(c.Warnings[0], "pybal.conf:16: config: [b] etcd:// is plain HTTP") {
		t.Errorf("warnings = %q", c.Warnings)
	}
}

// https:// pool sources: pool-ca-file ([global]) and pool-tls-insecure
// (per service, or [DEFAULT]); settings without effect are warnings.
func TestPoolTLSKeys(t *testing.T) {
	svc := func(name, url string, extra string) string {
		return "[" + name + "]\nprotocol = tcp\nip = 10.0.0.1\nport = " + fmt.Sprint(80+len(name)) + "\nscheduler = rr\nconfig = " + url + "\n" + extra
	}
	tests := []struct {
		name, conf string
		insecure   []bool // per service
		warnings   []string
	}{
		{name: "verified with a CA file", conf: "[global]\npool-ca-file = /etc/pybal/ca.pem\n" + svc("a", "https://config-master/a", ""),
			insecure: []bool{false}},
		{name: "verification off", conf: svc("a", "https://config-master/a", "pool-tls-insecure = yes\n") + svc("bb", "https://config-master/b", ""),
			insecure: []bool{true, false}},
		{name: "insecure without https", conf: svc("a", "file:///p", "pool-tls-insecure = yes\n"), insecure: []bool{true},
			warnings: []string{"f:7: pool-tls-insecure: [a] has no effect: its pool source is not https://"}},
		{name: "insecure in [DEFAULT] is not repeated", conf: "[DEFAULT]\npool-tls-insecure = yes\n" + svc("a", "file:///p", ""),
			insecure: []bool{true}},
		{name: "a CA file nothing verifies with", conf: "[global]\npool-ca-file = /etc/pybal/ca.pem\n" +
			svc("a", "https://config-master/a", "pool-tls-insecure = on\n") + svc("bb", "http://config-master/b", ""),
			insecure: []bool{true, false}, warnings: []string{"f:2: pool-ca-file: no effect: no service verifies an https:// pool source"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("f", []byte(tc.conf))
			if err != nil {
				t.Fatal(err)
			}
			var insecure []bool
			for _, s := range c.Services {
				insecure = append(insecure, s.PoolTLSInsecure)
			}
			if fmt.Sprint(insecure) != fmt.Sprint(tc.insecure) {
				t.Errorf("pool-tls-insecure %v, want %v", insecure, tc.insecure)
			}
			if fmt.Sprint(c.Warnings) != fmt.Sprint(tc.warnings) {
				t.Errorf("warnings %q, want %q", c.Warnings, tc.warnings)
			}
		})
	}
}

func TestEtcdErrors(t *testing.T) {
	svc := "[s]\nprotocol = tcp\nip = 10.0.0.1\nport = 80\nscheduler = wrr\nconfig = etcd://h/conftool/v1/pools/a/b/c/\n"
	tests := []struct {
		name, text, want string
	}{
		{"not a node directory", strings.Replace(svc, "/a/b/c/", "/a/b/", 1), "f:6: config: pool source etcd://h/conftool/v1/pools/a/b/: the path"},
		{"bad port", strings.Replace(svc, "//h/", "//h:x/", 1), "f:6: config: pool source etcd://h:x/"},
		{"no host", strings.Replace(svc, "//h/", "///", 1), "f:6: config: pool source etcd:///"},
		{"cert without key", "[global]\netcd-cert = /c.pem\n" + svc, "f:2: etcd-cert: etcd-cert and etcd-key go together"},
		{"key without cert", "[global]\netcd-key = /k.pem\n" + svc, "f:2: etcd-key: etcd-cert and etcd-key go together"},
		{"password without user", "[global]\netcd-password-file = /pw\n" + svc, "f:2: etcd-password-file: a password needs etcd-user"},
		{"empty", "[global]\netcd-cacert =\n" + svc, "f:2: etcd-cacert: empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f", []byte(tc.text))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v\nwant prefix %q", err, tc.want)
			}
		})
	}
}

// Every problem of the file is reported, sorted by line, each once; a
// bad header's lines are skipped, and a service with a problem is left
// out of the checks across services.
func TestParseReportsEveryError(t *testing.T) {
	text := "[DEFAULT]\nrise = 0\n" + // 2: read by both services, reported once
		"[global]\ninstrumentation = maybe\nbgp-med = x\n" + // 4, 5
		"[s\nprotocol = tcp\n" + // 6: its option is skipped
		"[a]\nprotocol = sctp\nip = 10.0.0.1\nport = 80\nscheduler = fifo\nconfig = file:///x\n" + // 9, 12
		"[b]\nprotocol = tcp\nip = 10.0.0.1\nport = 80\nscheduler = rr\n" + // 14: config missing
		"garbage\n" // 19
	_, err := Parse("f", []byte(text))
	var es conf.Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %#v, want conf.Errors", err)
	}
	want := []string{
		"f:2: rise: must be 1-100",
		"f:4: instrumentation: not a boolean",
		"f:5: bgp-med: not an unsigned 32-bit integer",
		"f:6: section header without ']'",
		"f:9: protocol: must be tcp or udp",
		"f:12: scheduler: unknown scheduler",
		"f:14: config: required in [b]",
		"f:19: expected 'key = value'",
	}
	if len(es) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(es), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(es[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, es[i], w)
		}
	}
}
