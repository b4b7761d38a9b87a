package zones

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Private-use RR type codes for gdnsd's DYNA and DYNC so miekg/dns's zone
// parser can read them. They never reach the wire.
const (
	TypeDYNA uint16 = 65400
	TypeDYNC uint16 = 65401
)

func init() {
	// dns.PrivateHandle writes miekg/dns's package-level type tables; it is
	// the library's only extension point, so we register once, at init,
	// and never change it afterwards.
	dns.PrivateHandle("DYNA", TypeDYNA, func() dns.PrivateRdata { return new(dynRdata) })
	dns.PrivateHandle("DYNC", TypeDYNC, func() dns.PrivateRdata { return new(dynRdata) })
}

// dynRdata is the text of a DYNA/DYNC record: `PLUGIN[!RESOURCE[/DC]]`, plus
// the MIN TTL that preprocess moved out of the TTL field.
type dynRdata struct {
	Spec   string
	MinTTL int64 // -1: not given
}

func (d *dynRdata) String() string { return d.Spec }
func (d *dynRdata) Parse(txt []string) error {
	d.MinTTL = -1
	if len(txt) == 0 {
		return errors.New("DYNA/DYNC needs a target such as geoip!text-addrs")
	}
	d.Spec = txt[0]
	rest := txt[1:]
	if len(rest) > 0 && strings.HasPrefix(rest[0], minTTLMarker) {
		n, err := strconv.ParseUint(strings.TrimPrefix(rest[0], minTTLMarker), 10, 32)
		if err != nil {
			return fmt.Errorf("bad MIN TTL %q", rest[0])
		}
		d.MinTTL = int64(n)
		rest = rest[1:]
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected %q after %s", strings.Join(rest, " "), d.Spec)
	}
	return nil
}
func (d *dynRdata) Pack(buf []byte) (int, error) {
	if len(buf) < len(d.Spec) {
		return 0, dns.ErrBuf
	}
	return copy(buf, d.Spec), nil
}
func (d *dynRdata) Unpack(buf []byte) (int, error) { d.Spec = string(buf); return len(buf), nil }
func (d *dynRdata) Copy(dst dns.PrivateRdata) error {
	c, ok := dst.(*dynRdata)
	if !ok {
		return dns.ErrRdata
	}
	*c = *d
	return nil
}
func (d *dynRdata) Len() int { return len(d.Spec) }

// Dyn is a DYNA or DYNC record ready for the query path.
type Dyn struct {
	Owner    []byte // wire, zone case
	DYNC     bool   // may answer a CNAME; nothing else may share the name
	Plugin   string // "geoip", "metafo", "multifo", ...
	Resource string
	DC       string // pinned datacenter, "" for GeoIP choice
	MaxTTL   uint32
	MinTTL   uint32
	// Handle is what the DynChecker returned at load; the server uses it
	// to resolve answers without a name lookup per query.
	Handle any
	where  string
}

// Where is the file:line the record came from.
func (d *Dyn) Where() string { return d.where }

// ClampTTL applies a forced-state TTL cap within the record's [MIN, MAX].
func (d *Dyn) ClampTTL(capTTL uint32, hasCap bool) uint32 {
	t := d.MaxTTL
	if hasCap && capTTL < t {
		t = capTTL
	}
	if t < d.MinTTL {
		t = d.MinTTL
	}
	return t
}

// DynChecker validates DYNA/DYNC references while zones load (the resource
// exists, the pinned DC belongs to it, CNAME targets only in DYNC) and
// returns the handle the query path will use. A nil checker refuses every
// dynamic record.
type DynChecker interface {
	CheckDyn(plugin, resource, dc string, dync bool) (any, error)
}

// parseDynSpec splits gdnsd's `plugin[!resource[/dc]]`. Which plugins,
// resources and pins exist is the DynChecker's to say; a resource of a
// plugin that takes no pins may contain '/' (the checker joins it back).
func parseDynSpec(spec string) (plugin, res, dc string, err error) {
	plugin, rest, hasRes := strings.Cut(spec, "!")
	switch {
	case plugin == "":
		return "", "", "", fmt.Errorf("dynamic target %q is not PLUGIN!RESOURCE[/DC]", spec)
	case hasRes && rest == "":
		return "", "", "", fmt.Errorf("dynamic target %q: empty resource", spec)
	case strings.Contains(rest, "!"):
		return "", "", "", fmt.Errorf("dynamic target %q: more than one '!'", spec)
	}
	res, dc, _ = strings.Cut(rest, "/")
	if hasRes && res == "" {
		return "", "", "", fmt.Errorf("dynamic target %q: empty resource", spec)
	}
	return plugin, res, dc, nil
}

// minTTLMarker prefixes the MIN TTL that preprocess appends to DYNA/DYNC
// rdata; it cannot start a real resource name.
const minTTLMarker = "=min="
