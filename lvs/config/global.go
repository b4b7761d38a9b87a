package config

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/pylit"
)

// parseGlobal reads [global]; it reports whether every key was good.
func (c *Config) parseGlobal(r *reader) bool {
	g := &c.Global
	g.Instrumentation = r.boolean("instrumentation", false)
	g.InstrumentationPort = uint16(r.uint("instrumentation_port", 9090, 16))
	g.InstrumentationIPs = r.addrList("instrumentation_ips",
		[]netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")})
	if o, ok := r.opt("instrumentation_ips"); ok && len(g.InstrumentationIPs) == 0 {
		// [""] (PyBal: Twisted's interface "") means every address: the
		// dual-stack wildcard.
		if l, _ := pylit.StringList(o.Value); len(l) > 0 {
			g.InstrumentationIPs = []netip.Addr{netip.IPv6Unspecified()}
		} else {
			r.errorf(o, "instrumentation_ips", "empty list")
		}
	}
	g.BGPWithdrawOnDown = r.boolean("bgp-withdraw-on-down", false)
	g.PoolPollInterval = r.interval("pool-poll-interval", time.Second)
	g.DNSRefreshInterval = r.interval("dns-refresh-interval", 60*time.Second)
	g.ResyncInterval = r.interval("ipvs-resync-interval", 30*time.Second)
	parseBGP(r, &g.BGP)
	parseEtcd(r, &g.Etcd)
	if o, ok := r.opt("pool-ca-file"); ok {
		if strings.TrimSpace(o.Value) == "" {
			r.errorf(o, "pool-ca-file", "empty")
		} else {
			g.PoolCAFile, g.PoolCAFilePos = o.Value, o.Pos
		}
	}
	for _, k := range []struct {
		key, def string
		dst      *string
	}{{"control-socket", DefaultControlSocket, &g.ControlSocket}, {"manual-depool-state", DefaultManualStateFile, &g.ManualStateFile}} {
		if o, ok := r.opt(k.key); ok && strings.TrimSpace(o.Value) == "" {
			r.errorf(o, k.key, "empty")
		}
		*k.dst, _ = r.str(k.key, k.def)
	}
	r.unknown(c, "[global]")
	return !r.failed()
}

func parseBGP(r *reader, b *bgp.Config) {
	b.Enabled = r.boolean("bgp", false)
	b.LocalASN = uint32(r.uint("bgp-local-asn", 0, 32))
	b.Peers = r.addrList("bgp-peer-address", nil)
	b.PeerPort = uint16(r.uint("bgp-peer-port", 179, 16))
	parseASPath(r, b)
	b.MED = uint32(r.uint("bgp-med", 0, 32))
	for _, k := range []struct {
		key string
		dst *netip.Addr
		v4  bool
	}{{"bgp-nexthop-ipv4", &b.NextHopV4, true}, {"bgp-nexthop-ipv6", &b.NextHopV6, false}, {"bgp-router-id", &b.RouterID, true}} {
		if o, ok := r.opt(k.key); ok {
			a, err := netip.ParseAddr(o.Value)
			switch {
			case err != nil:
				r.errorf(o, k.key, "bad IP address %q", o.Value)
			case k.v4 && !a.Is4():
				r.errorf(o, k.key, "%s is not an IPv4 address", a)
			case !k.v4 && !a.Is6():
				r.errorf(o, k.key, "%s is not an IPv6 address", a)
			default:
				*k.dst = a
			}
		}
	}
	b.LocalIPs = r.addrList("bgp-local-ips", nil)
	b.LocalPort = uint16(r.uint("bgp-local-port", 179, 16))
	b.HoldTime = r.seconds("bgp-hold-time", 30*time.Second)
	if o, ok := r.opt("bgp-hold-time"); ok && b.HoldTime != 0 && b.HoldTime < 3*time.Second {
		r.errorf(o, "bgp-hold-time", "must be 0 or at least 3 s (RFC 4271)")
	}
	parseCommunities(r, b)
	b.PeerASN = uint32(r.uint("bgp-peer-asn", 0, 32))
	b.ConnectRetry = r.seconds("bgp-connect-retry", 0)
	if b.Enabled {
		validateBGP(r, b)
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
}

func parseASPath(r *reader, b *bgp.Config) {
	o, ok := r.opt("bgp-as-path")
	if !ok {
		if b.LocalASN != 0 {
			b.ASPath = []uint32{b.LocalASN}
		}
		return
	}
	for _, f := range strings.Fields(o.Value) {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			r.errorf(o, "bgp-as-path", "bad ASN %q", f)
			b.ASPath = nil
			return
		}
		b.ASPath = append(b.ASPath, uint32(n))
	}
	if len(b.ASPath) == 0 {
		r.errorf(o, "bgp-as-path", "empty")
	}
}

func parseCommunities(r *reader, b *bgp.Config) {
	o, ok := r.opt("bgp-communities")
	if !ok {
		return
	}
	l, err := pylit.StringList(o.Value)
	if err != nil {
		r.errorf(o, "bgp-communities", "%v", err)
		return
	}
	for _, c := range l {
		a, v, found := strings.Cut(c, ":")
		an, err1 := strconv.ParseUint(a, 10, 16)
		vn, err2 := strconv.ParseUint(v, 10, 16)
		if !found || err1 != nil || err2 != nil {
			r.errorf(o, "bgp-communities", "bad community %q (want ASN:VALUE, both 0-65535)", c)
			continue
		}
		b.Communities = append(b.Communities, bgp.Community{ASN: uint16(an), Value: uint16(vn)})
	}
}

// validateBGP checks an enabled BGP's settings together, unless one of
// them was already reported bad (its default would only add noise).
func validateBGP(r *reader, b *bgp.Config) {
	for k := range r.bad {
		if strings.HasPrefix(k, "bgp") {
			return
		}
	}
	if b.LocalASN == 0 {
		r.missing("bgp-local-asn")
	}
	if len(b.Peers) == 0 {
		r.missing("bgp-peer-address")
	}
	if r.bad["bgp-local-asn"] || r.bad["bgp-peer-address"] {
		return
	}
	err := b.Validate()
	if err == nil {
		return
	}
	// Validate names the key of each problem ("key: reason", one a line);
	// add file and line.
	for _, line := range strings.Split(err.Error(), "\n") {
		key, reason, _ := strings.Cut(line, ": ")
		pos := r.s.Pos
		if o, ok := r.s.Opts[key]; ok {
			pos = o.Pos
		}
		r.bad[key] = true
		r.errs.Addf(pos, key, "%s", reason)
	}
}

// parseEtcd reads the etcd client keys of [global].
func parseEtcd(r *reader, e *EtcdSettings) {
	e.Pos = map[string]conf.Pos{}
	for _, k := range []struct {
		key string
		dst *string
	}{{"etcd-cacert", &e.CACert}, {"etcd-cert", &e.Cert}, {"etcd-key", &e.Key}, {"etcd-user", &e.User},
		{"etcd-password-file", &e.PasswordFile}} {
		o, ok := r.opt(k.key)
		if !ok {
			continue
		}
		if strings.TrimSpace(o.Value) == "" {
			r.errorf(o, k.key, "empty")
			continue
		}
		*k.dst, e.Pos[k.key] = o.Value, o.Pos
	}
	if r.bad["etcd-cert"] || r.bad["etcd-key"] || r.bad["etcd-user"] || r.bad["etcd-password-file"] {
		return
	}
	if (e.Cert == "") != (e.Key == "") {
		k := "etcd-cert"
		if e.Cert == "" {
			k = "etcd-key"
		}
		r.errs.Addf(e.Pos[k], k, "etcd-cert and etcd-key go together (a client certificate and its key)")
	}
	if e.PasswordFile != "" && e.User == "" {
		r.errs.Addf(e.Pos["etcd-password-file"], "etcd-password-file", "a password needs etcd-user")
	}
}
