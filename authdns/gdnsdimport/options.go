package gdnsdimport

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/vscf"
	"github.com/geotraffic/geotraffic/zones"
)

// notNeeded are gdnsd options with no meaning for authdns, and why.
var notNeeded = map[string]string{
	"udp_threads":           "authdns opens one UDP socket per CPU on each address (udp_sockets sets another count)",
	"tcp_fastopen":          "authdns leaves TCP Fast Open to the kernel's default",
	"tcp_backlog":           "authdns uses the kernel's listen backlog (SOMAXCONN)",
	"udp_sndbuf":            "authdns leaves the UDP send buffer to the kernel's default",
	"zones_rfc1035_threads": "authdns loads zones with its own parallelism",
	"run_dir":               "authdns keeps its control socket beside authdns.yaml (key control)",
	"state_dir":             "admin_state is copied into the output directory (key admin_state)",
	"tcp_control":           "authdns's control API is `authdns ctl` over control (a Unix socket) or control_tcp",
	"lock_mem":              "authdns does not lock its memory",
	"disable_tcp_dso":       "authdns does not offer DNS Stateful Operations (RFC 8490)",
	"acme_challenge_ttl":    "authdns has no gdnsdctl acme-dns-01 equivalent: serve _acme-challenge TXT records from a zone",
	"dns_port":              "the port is part of each listen address",
}

// removedOptions are gdnsd 2.x options gdnsd 3.x ignores with a warning.
var removedOptions = []string{"username", "weaker_security", "include_optional_ns", "realtime_stats",
	"zones_strict_startup", "zones_rfc1035_auto", "zones_rfc1035_auto_interval", "zones_rfc1035_quiesce",
	"any_mitigation", "priority", "log_stats", "max_response", "max_cname_depth", "max_addtl_rrsets",
	"http_listen", "max_http_clients", "http_timeout", "http_port", "plugin_search_path", "udp_recv_width"}

// gdnsdChaos is what gdnsd 3.x answers to CHAOS queries without
// chaos_response; authdns refuses them without one.
const gdnsdChaos = "gdnsd/3"

// options translates gdnsd's `options` hash (nil when absent) into the
// keys of authdns.yaml, in gdnsd's order, after listen.
func (t *translator) options(opts *vscf.Node) {
	port := "53"
	if v := opts.Get("dns_port"); v != nil {
		if u, err := v.Uint(); err == nil && u >= 1 && u <= 65535 {
			port = strconv.FormatUint(u, 10)
		} else {
			t.notef(v.Pos, "dns_port", Error, "want a port from 1 to 65535, found %s", strconv.Quote(v.Value))
		}
	}
	t.translateListen(opts, port)
	t.cfg.add("zones", yStr("zones"))
	t.cfg.add("admin_state", yStr("admin_state"))
	if opts == nil {
		t.chaosDefault()
		return
	}
	tcp := tcpClients{perThread: 256, threads: 2}
	chaos := false
	noChain, noChainPair := true, (*vscf.Pair)(nil) // gdnsd's default: no chain
	for _, p := range opts.Pairs {
		v, path := p.Value, "options."+p.Key
		out := func(key string, val *ynode) {
			if val != nil {
				t.addPair(t.cfg, p, val).key = key
			}
		}
		switch p.Key {
		case "listen":
			// Done above.
		case "nsid":
			t.nsidHex(p, out)
		case "nsid_ascii", "chaos_response":
			key := map[string]string{"nsid_ascii": "nsid", "chaos_response": "chaos_response"}[p.Key]
			chaos = chaos || key == "chaos_response"
			out(key, yStr(t.scalarText(v, path)))
		case "zones_default_ttl":
			out(p.Key, t.uintIn(v, path, 1, 1<<31-1))
		case "zones_strict_data":
			out(p.Key, t.boolean(v, path))
		case "max_edns_response":
			out("max_udp_size", t.uintIn(v, path, 512, 16384))
		case "max_edns_response_v6":
			t.ednsV6(opts, v, path)
		case "tcp_timeout":
			if n := t.uintIn(v, path, 5, 1800); n != nil {
				out("tcp_idle_timeout", yStr(n.value+"s"))
			}
		case "tcp_clients_per_thread", "tcp_threads":
			tcp.set(t, p) // written after the loop, with every factor known
		case "udp_rcvbuf":
			t.rcvbuf(v, path, out)
		case "disable_cookies":
			if b := t.boolean(v, path); b != nil {
				on := b.value == "false"
				out("cookies", yTyped(strconv.FormatBool(on)))
			}
		case "cookie_key_file":
			t.notef(v.Pos, path, Warning, "not translated: authdns's cookies are RFC 9018's, with a secret of 32 hex digits in cookie_secret_file; write one and share it across the servers behind one address")
		case "max_nocookie_response":
			if u, err := v.Uint(); err != nil || u != 0 {
				t.notef(v.Pos, path, Error, "not translated: authdns does not cap the replies to clients without a cookie")
			}
		case "acme_challenge_dns_ttl":
			if u, err := v.Uint(); err != nil || u != 0 {
				t.notef(v.Pos, path, Error, "not translated: authdns serves _acme-challenge TXT records with their zone TTL")
			}
		case "edns_client_subnet":
			if b, err := v.Bool(); err != nil || !b {
				t.notef(v.Pos, path, Error, "not translated: authdns always honours EDNS Client Subnet")
			}
		case "disable_text_autosplit":
			if b, err := v.Bool(); err != nil || b {
				t.notef(v.Pos, path, Error, "not translated: authdns always splits long TXT strings into 255-byte pieces")
			}
		case "experimental_no_chain":
			if b := t.boolean(v, path); b != nil {
				noChain = b.value == "true"
				noChainPair = p
			}
		case "min_ttl", "max_ttl", "max_ncache_ttl":
			t.ttlClamp(p)
		default:
			t.otherOption(p)
		}
	}
	tcp.translate(t)
	if !chaos {
		t.chaosDefault()
	}
	t.gdnsdAnswers(noChain, noChainPair)
}

// gdnsdAnswers writes the two answer options in which authdns's defaults
// differ from gdnsd 3: CNAMEs not followed (unless experimental_no_chain
// is false), and no additional addresses outside referrals.
func (t *translator) gdnsdAnswers(noChain bool, p *vscf.Pair) {
	if p != nil {
		t.addPair(t.cfg, p, yTyped(strconv.FormatBool(!noChain))).key = "cname_chain"
	} else {
		t.cfg.add("cname_chain", yTyped("false")).line = "# gdnsd's default (experimental_no_chain): a CNAME answer is not followed"
	}
	t.cfg.add("additional_addresses", yTyped("false")).line = "# as gdnsd 3: no addresses of NS, MX and SRV targets outside referrals"
}

// ttlDefaults are gdnsd's TTL clamps, which authdns applies as fixed
// values (package zones).
var ttlDefaults = map[string]uint64{"min_ttl": zones.MinTTL, "max_ttl": zones.MaxTTL, "max_ncache_ttl": zones.MaxNcacheTTL}

// ttlClamp checks a TTL clamp option against authdns's fixed one.
func (t *translator) ttlClamp(p *vscf.Pair) {
	path, def := "options."+p.Key, ttlDefaults[p.Key]
	if u, err := p.Value.Uint(); err == nil && u == def {
		t.notef(p.KeyPos, path, NotNeeded, "gdnsd's default, which authdns applies")
		return
	}
	t.notef(p.KeyPos, path, Error, "not translated: authdns clamps zone TTLs with gdnsd's default, %d; records whose TTLs lie between the two answer differently", def)
}

func (t *translator) otherOption(p *vscf.Pair) {
	path := "options." + p.Key
	if why, ok := notNeeded[p.Key]; ok {
		t.notef(p.KeyPos, path, NotNeeded, "%s", why)
		return
	}
	for _, r := range removedOptions {
		if r == p.Key {
			t.notef(p.KeyPos, path, NotNeeded, "a gdnsd 2.x option, which gdnsd 3.x ignores too")
			return
		}
	}
	t.notef(p.KeyPos, path, Error, "unknown option, which gdnsd 3.x refuses")
}

// chaosDefault keeps gdnsd's answer to CHAOS queries: authdns refuses
// them unless chaos_response is set.
func (t *translator) chaosDefault() {
	p := t.cfg.add("chaos_response", yStr(gdnsdChaos))
	p.line = "# gdnsd's default answer to CHAOS queries"
}

// tcpClients gathers the options gdnsd multiplies into its TCP client
// bound: per thread, threads, addresses.
type tcpClients struct {
	perThread, threads uint64
	pair               *vscf.Pair // tcp_clients_per_thread, when given
}

func (c *tcpClients) set(t *translator, p *vscf.Pair) {
	path := "options." + p.Key
	if p.Key == "tcp_threads" {
		t.notef(p.KeyPos, path, NotNeeded, "authdns serves TCP from one listener per address with a goroutine per connection")
		if u, err := p.Value.Uint(); err == nil && u >= 1 && u <= 1024 {
			c.threads = u
		}
		return
	}
	if n := t.uintIn(p.Value, path, 16, 65535); n != nil {
		c.perThread, _ = strconv.ParseUint(n.value, 10, 64)
		c.pair = p
	}
}

// translate writes max_tcp_clients when the operator set gdnsd's bound.
func (c *tcpClients) translate(t *translator) {
	if c.pair == nil {
		return
	}
	total := c.perThread * c.threads * uint64(t.listenCount)
	t.addPair(t.cfg, c.pair, yTyped(strconv.FormatUint(total, 10))).key = "max_tcp_clients"
	t.notef(c.pair.KeyPos, "options."+c.pair.Key, Warning, "translated as max_tcp_clients: %d (%d per thread × %d tcp_threads × %d addresses): authdns bounds TCP clients for all addresses together",
		total, c.perThread, c.threads, t.listenCount)
}

// nsidHex decodes gdnsd's hex nsid into authdns's text nsid.
func (t *translator) nsidHex(p *vscf.Pair, out func(string, *ynode)) {
	v, path := p.Value, "options.nsid"
	b, err := hex.DecodeString(v.Value)
	switch {
	case v.Kind != vscf.Scalar || err != nil:
		t.notef(v.Pos, path, Error, "not translated: want hex digits, an even number of them")
	case !utf8.Valid(b):
		t.notef(v.Pos, path, Error, "not translated: the bytes %s are not UTF-8 text, and authdns's nsid is text", v.Value)
	default:
		out("nsid", yStr(string(b)))
		t.notef(v.Pos, path, Warning, "translated as nsid: %s (authdns's nsid is the text itself)", strconv.Quote(string(b)))
	}
}

// ednsV6 checks max_edns_response_v6 against the single max_udp_size.
func (t *translator) ednsV6(opts, v *vscf.Node, path string) {
	v4 := uint64(1232)
	if n := opts.Get("max_edns_response"); n != nil {
		if u, err := n.Uint(); err == nil {
			v4 = u
		}
	}
	if u, err := v.Uint(); err == nil && u == v4 {
		t.notef(v.Pos, path, NotNeeded, "the same as max_edns_response, which max_udp_size applies to both families")
		return
	}
	t.notef(v.Pos, path, Error, "not translated: authdns has one limit for both families, max_udp_size (max_edns_response: %d)", v4)
}

// rcvbuf translates udp_rcvbuf: gdnsd's 0 is the kernel's default, as
// authdns's; authdns refuses less than 64 KiB.
func (t *translator) rcvbuf(v *vscf.Node, path string, out func(string, *ynode)) {
	n := t.uintIn(v, path, 0, 1048576)
	if n == nil {
		return
	}
	if u, _ := strconv.Atoi(n.value); u != 0 && u < 64<<10 {
		t.notef(v.Pos, path, Warning, "translated as udp_rcvbuf: 65536, the smallest authdns accepts")
		n = yTyped("65536")
	}
	out("udp_rcvbuf", n)
}

// translateListen writes listen: from --listen, else options.listen, else
// gdnsd's default (any).
func (t *translator) translateListen(opts *vscf.Node, port string) {
	v := opts.Get("listen")
	var addrs []string
	switch {
	case len(t.o.Listen) > 0:
		addrs = t.o.Listen
		if v != nil {
			t.notef(v.Pos, "listen", Warning, "replaced by --listen %s", strings.Join(t.o.Listen, ","))
		}
	case v == nil:
		addrs = anyAddrs(port)
		t.notef(conf.Pos{}, "listen", Warning, "not set: gdnsd listens on every address (any), so authdns listens on %s", strings.Join(addrs, " and "))
	default:
		addrs = t.listenValue(v, port)
	}
	t.listenCount = len(addrs)
	p := t.cfg.add("listen", ySeqOf(addrs...))
	if v != nil && len(t.o.Listen) == 0 {
		if pr := pairOf(opts, "listen"); pr != nil {
			p.comments, p.line = pr.Comments, pr.LineComment
		}
	}
}

func pairOf(h *vscf.Node, key string) *vscf.Pair {
	if h == nil || h.Kind != vscf.Hash {
		return nil
	}
	for _, p := range h.Pairs {
		if p.Key == key {
			return p
		}
	}
	return nil
}

func anyAddrs(port string) []string { return []string{"0.0.0.0:" + port, "[::]:" + port} }

// listenValue reads gdnsd's listen forms: any, one spec, an array of
// specs, or a hash of spec => per-address options.
func (t *translator) listenValue(v *vscf.Node, port string) []string {
	var out []string
	add := func(n *vscf.Node, spec string) {
		if spec == "any" {
			out = append(out, anyAddrs(port)...)
			return
		}
		a, err := listenAddr(spec, port)
		if err != nil {
			t.notef(n.Pos, "listen", Error, "%v", err)
			return
		}
		out = append(out, a)
	}
	if v.Kind == vscf.Hash {
		for _, p := range v.Pairs {
			add(p.Value, p.Key)
			t.perAddress(p)
		}
		return out
	}
	for _, n := range v.List() {
		if n.Kind != vscf.Scalar {
			t.notef(n.Pos, "listen", Error, "want an address, found %s", n.Kind)
			continue
		}
		add(n, n.Value)
	}
	return out
}

// perAddress reports the per-address options of listen's hash form.
func (t *translator) perAddress(p *vscf.Pair) {
	if p.Value.Kind != vscf.Hash {
		return
	}
	for _, o := range p.Value.Pairs {
		path := "listen." + p.Key + "." + o.Key
		if o.Key == "tcp_proxy" {
			if b, err := o.Value.Bool(); err == nil && !b {
				continue
			}
			t.notef(o.KeyPos, path, Error, "not translated: authdns does not accept the PROXY protocol")
			continue
		}
		t.notef(o.KeyPos, path, Warning, "not translated: authdns has no per-address settings; its global ones apply")
	}
}

// listenAddr turns a gdnsd listen spec (IP, IP:port, [IPv6]:port) into
// authdns's IP:port.
func listenAddr(spec, port string) (string, error) {
	host, p := spec, port
	switch {
	case strings.HasPrefix(spec, "["):
		i := strings.Index(spec, "]")
		if i < 0 {
			return "", fmt.Errorf("%q: unclosed [", spec)
		}
		host = spec[1:i]
		if rest := spec[i+1:]; rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return "", fmt.Errorf("%q: want [IPv6]:port", spec)
			}
			p = rest[1:]
		}
	case strings.Count(spec, ":") == 1:
		host, p, _ = strings.Cut(spec, ":")
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "", fmt.Errorf("%q is not an IP address", spec)
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: bad port", spec)
	}
	return netip.AddrPortFrom(a, mustPort(p)).String(), nil
}

func mustPort(p string) uint16 {
	n, _ := strconv.Atoi(p)
	return uint16(n)
}

// uintIn reads an integer option in [lo, hi] as gdnsd does; out of range
// or unreadable is an error note and nil.
func (t *translator) uintIn(v *vscf.Node, path string, lo, hi uint64) *ynode {
	u, err := v.Uint()
	if err != nil || u < lo || u > hi {
		t.notef(v.Pos, path, Error, "want a whole number from %d to %d, found %s", lo, hi, describe(v))
		return nil
	}
	return yTyped(strconv.FormatUint(u, 10))
}

func (t *translator) boolean(v *vscf.Node, path string) *ynode {
	if b := boolValue(v); b != nil {
		return b
	}
	t.notef(v.Pos, path, Error, "want true or false, found %s", describe(v))
	return nil
}

// scalarText is a scalar option's text; anything else is an error note.
func (t *translator) scalarText(v *vscf.Node, path string) string {
	if v.Kind != vscf.Scalar {
		t.notef(v.Pos, path, Error, "want a single value, found %s", v.Kind)
		return ""
	}
	return t.text(v, path)
}

func describe(v *vscf.Node) string {
	if v.Kind == vscf.Scalar {
		return strconv.Quote(v.Value)
	}
	return v.Kind.String()
}
