package config

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/lvs/pylit"
)

// reader consumes a section's keys, remembering which were used and
// recording every problem in errs. A key whose value is bad reads as its
// default, so the section's other keys are still checked; bad tells the
// checks that combine keys to leave it alone.
type reader struct {
	s    *Section
	used map[string]bool
	bad  map[string]bool
	errs *conf.List
}

func newReader(s *Section, errs *conf.List) *reader {
	bad := map[string]bool{}
	for k := range s.broken {
		bad[k] = true
	}
	return &reader{s: s, used: map[string]bool{}, bad: bad, errs: errs}
}

// opt returns a key's option; a value that could not be interpolated
// (already reported) reads as absent.
func (r *reader) opt(key string) (Option, bool) {
	r.used[key] = true
	o, ok := r.s.Opts[key]
	return o, ok && !r.s.broken[key]
}

// errorf records a problem with key's value.
func (r *reader) errorf(o Option, key, format string, args ...any) {
	r.bad[key] = true
	r.errs.Addf(o.Pos, key, format, args...)
}

// failed reports whether any key of the section was bad.
func (r *reader) failed() bool { return len(r.bad) > 0 }

func (r *reader) missing(key string) {
	if !r.bad[key] {
		r.bad[key] = true
		r.errs.Addf(r.s.Pos, key, "required in [%s]", r.s.Name)
	}
}

func (r *reader) str(key, def string) (string, conf.Pos) {
	o, ok := r.opt(key)
	if !ok {
		return def, r.s.Pos
	}
	return o.Value, o.Pos
}

func (r *reader) boolean(key string, def bool) bool {
	o, ok := r.opt(key)
	if !ok {
		return def
	}
	b, err := ParseBool(o.Value)
	if err != nil {
		r.errorf(o, key, "%v", err)
		return def
	}
	return b
}

// uint returns the key's value, or def when it is unset or bad.
func (r *reader) uint(key string, def uint64, bits int) uint64 {
	o, ok := r.opt(key)
	if !ok {
		return def
	}
	n, err := strconv.ParseUint(o.Value, 10, bits)
	if err != nil {
		r.errorf(o, key, "not an unsigned %d-bit integer: %q", bits, o.Value)
		return def
	}
	return n
}

func (r *reader) seconds(key string, def time.Duration) time.Duration {
	o, ok := r.opt(key)
	if !ok {
		return def
	}
	d, err := ParseSeconds(o.Value)
	if err != nil {
		r.errorf(o, key, "%v", err)
		return def
	}
	return d
}

// interval is seconds of at least 0.01 s.
func (r *reader) interval(key string, def time.Duration) time.Duration {
	d := r.seconds(key, def)
	if o, ok := r.opt(key); ok && !r.bad[key] && d < 10*time.Millisecond {
		r.errorf(o, key, "must be at least 0.01 s")
		return def
	}
	return d
}

func (r *reader) addrList(key string, def []netip.Addr) []netip.Addr {
	o, ok := r.opt(key)
	if !ok {
		return def
	}
	var items []string
	if strings.HasPrefix(o.Value, "[") || strings.HasPrefix(o.Value, "(") || strings.HasPrefix(o.Value, "\"") || strings.HasPrefix(o.Value, "'") {
		l, err := pylit.StringList(o.Value)
		if err != nil {
			r.errorf(o, key, "%v", err)
			return def
		}
		items = l
	} else {
		items = []string{o.Value}
	}
	out := []netip.Addr{}
	for _, it := range items {
		if it == "" { // PyBal's [""] means all addresses
			continue
		}
		a, err := netip.ParseAddr(it)
		if err != nil {
			r.errorf(o, key, "bad IP address %q", it)
			return def
		}
		out = append(out, a)
	}
	return out
}

func (r *reader) unknown(c *Config, what string) {
	for _, k := range r.s.Keys {
		if !r.used[k] && !r.s.fromDefault[k] {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s: unknown key in %s, ignored", r.s.Opts[k].Pos, k, what))
		}
	}
}

// ParseBool accepts PyBal's (ConfigParser's) boolean words.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, nil
	case "f", "false", "n", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q (want yes/no, true/false, on/off, 1/0)", s)
}

// ParseSeconds parses a non-negative number of seconds, e.g. "10" or "0.5".
func ParseSeconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > 1e9 {
		return 0, fmt.Errorf("not a number of seconds: %q", s)
	}
	return time.Duration(f * float64(time.Second)), nil
}
