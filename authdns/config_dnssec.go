package authdns

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// DNSSECConfig is the `dnssec:` section: where each zone's keys are and
// how long signatures last. A zone is signed when its key directory holds
// keys of it that are active now; the others are served unsigned.
type DNSSECConfig struct {
	// Keys is the key directory of every zone without its own (absolute;
	// "" = only the zones listed in Zones are looked for).
	Keys string
	// Validity is how long a signature is valid from its making; Refresh
	// is how long after making it is replaced (so Validity-Refresh is
	// the margin a validator's clock and caches get).
	Validity, Refresh time.Duration
	// DNSKEYTTL is the TTL of the DNSKEY, CDS and CDNSKEY sets.
	DNSKEYTTL uint32
	// CacheEntries bounds the signatures kept for answers made per query
	// (DYNA, DYNC, denials).
	CacheEntries int
	// Zones are the per-zone settings, by canonical zone name.
	Zones map[string]*DNSSECZone
	Pos   conf.Pos // of the section, for errors found once zones are known
}

// DNSSECZone is one entry of `dnssec.zones`.
type DNSSECZone struct {
	Keys   string // absolute; "" = dnssec.keys
	NoSign bool   // `sign: false`: served unsigned whatever its keys
	Pos    conf.Pos
}

// Defaults of the `dnssec:` section: Knot's validity and refresh, and
// an hour of DNSKEY TTL as dnssec-keygen's default.
const (
	DefaultSigValidity     = 14 * 24 * time.Hour
	DefaultSigRefresh      = 7 * 24 * time.Hour
	DefaultDNSKEYTTL       = 3600
	DefaultSigCacheEntries = 100000
	// minSigRefresh keeps a mistaken setting from re-signing every
	// zone in a loop.
	minSigRefresh = time.Minute
)

var dnssecKeys = []string{"keys", "validity", "refresh", "dnskey_ttl", "signature_cache", "zones"}

// parseDNSSEC reads the `dnssec:` mapping; errors are file:line:
// dnssec.KEY: reason.
func parseDNSSEC(l *conf.List, base string, n *conf.Node) *DNSSECConfig {
	if !l.Mapping(n, "dnssec", "a mapping such as {keys: /etc/authdns/keys}") {
		return nil
	}
	c := &DNSSECConfig{Validity: DefaultSigValidity, Refresh: DefaultSigRefresh, DNSKEYTTL: DefaultDNSKEYTTL,
		CacheEntries: DefaultSigCacheEntries, Zones: map[string]*DNSSECZone{}, Pos: n.Pos}
	var validityPos, refreshPos conf.Pos
	l.Fields(n, "dnssec", dnssecKeys, func(key string, _, v *conf.Node) {
		fail := func(format string, args ...any) { l.Addf(v.Pos, "dnssec."+key, format, args...) }
		switch key {
		case "keys":
			s, ok := v.Str()
			if !ok || s == "" {
				fail("want a directory of K<zone>+<alg>+<tag>.key/.private files")
				return
			}
			c.Keys = resolve(base, s)
		case "validity", "refresh":
			s, _ := v.Str()
			d, err := parseDays(s)
			if err != nil || d < minSigRefresh || d > 366*24*time.Hour {
				fail("want a duration such as 14d, 36h or 90m, from 1m to 366d")
				return
			}
			if key == "validity" {
				c.Validity, validityPos = d, v.Pos
			} else {
				c.Refresh, refreshPos = d, v.Pos
			}
		case "dnskey_ttl":
			if i, ok := v.Int(); ok && i >= 1 && i <= 1<<31-1 {
				c.DNSKEYTTL = uint32(i)
			} else {
				fail("want a TTL in seconds from 1 to 2147483647")
			}
		case "signature_cache":
			if i, ok := v.Int(); ok && i >= 1 && i <= 1<<26 {
				c.CacheEntries = i
			} else {
				fail("want a number of signatures from 1 to %d", 1<<26)
			}
		case "zones":
			parseDNSSECZones(l, base, v, c.Zones)
		}
	})
	if c.Refresh >= c.Validity {
		at := refreshPos // the default refresh: blame the validity
		if at.File == "" {
			at = validityPos
		}
		l.Addf(at, "dnssec.refresh", "must be shorter than validity (%s): a signature is replaced before it expires",
			fmtDays(c.Validity))
	}
	return c
}

// parseDNSSECZones reads `dnssec.zones: {ZONE: {keys: DIR} | {sign: false}}`.
func parseDNSSECZones(l *conf.List, base string, n *conf.Node, out map[string]*DNSSECZone) {
	if !l.Mapping(n, "dnssec.zones", "a mapping of zone names") {
		return
	}
	l.PairsFold(n, "dnssec.zones", func(name string, k, v *conf.Node) {
		path := "dnssec.zones." + name
		zone := dns.CanonicalName(name)
		if _, ok := dns.IsDomainName(zone); !ok || name == "" {
			l.Addf(k.Pos, path, "not a zone name")
			return
		}
		if _, dup := out[zone]; dup {
			l.Addf(k.Pos, path, "the zone is listed twice")
			return
		}
		z := &DNSSECZone{Pos: k.Pos}
		out[zone] = z
		if !l.Mapping(v, path, "{keys: DIR} or {sign: false}") {
			return
		}
		l.Fields(v, path, []string{"keys", "sign"}, func(key string, _, v *conf.Node) {
			switch key {
			case "keys":
				if s, ok := v.Str(); ok && s != "" {
					z.Keys = resolve(base, s)
				} else {
					l.Addf(v.Pos, path+".keys", "want a directory")
				}
			case "sign":
				if b, ok := v.Bool(); ok {
					z.NoSign = !b
				} else {
					l.Addf(v.Pos, path+".sign", "want true or false")
				}
			}
		})
		if z.NoSign && z.Keys != "" {
			l.Addf(k.Pos, path, "has both keys and sign: false; keep one")
		}
	})
}

// KeyDir is the key directory of zone (canonical name): "" when it is not
// signed whatever keys exist.
func (c *DNSSECConfig) KeyDir(zone string) string {
	if c == nil {
		return ""
	}
	if z := c.Zones[zone]; z != nil {
		if z.NoSign {
			return ""
		}
		if z.Keys != "" {
			return z.Keys
		}
	}
	return c.Keys
}

// KeyDirs lists every key directory the section names, sorted.
func (c *DNSSECConfig) KeyDirs() []string {
	if c == nil {
		return nil
	}
	seen := map[string]bool{}
	if c.Keys != "" {
		seen[c.Keys] = true
	}
	for _, z := range c.Zones {
		if z.Keys != "" {
			seen[z.Keys] = true
		}
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// parseDays is parseDuration with a d (24 h) unit, as Knot and BIND
// write signature lifetimes: "14d", "1d12h", "90m", or plain seconds.
func parseDays(s string) (time.Duration, error) {
	days, rest, found := strings.Cut(s, "d")
	if !found {
		return parseDuration(s)
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 || n > 100000 {
		return 0, fmt.Errorf("bad number of days %q", days)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return d, nil
	}
	r, err := time.ParseDuration(rest)
	if err != nil || r < 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d + r, nil
}

// fmtDays writes d as parseDays reads it, in days when whole.
func fmtDays(d time.Duration) string {
	if day := 24 * time.Hour; d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
