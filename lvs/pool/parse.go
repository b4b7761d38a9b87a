// Package pool reads the list of real servers of an LVS service from its
// source: file://, http:// and https:// documents in PyBal's legacy line
// format or JSON, polled for changes, or conftool node objects of an
// etcd:// or etcds:// prefix (FromNodes; the daemon watches them). It also
// resolves host names to addresses of the service's family.
package pool

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/lvs/pylit"
)

// Server is one host's pool entry.
type Server struct {
	Enabled bool   `json:"enabled"`
	Weight  uint32 `json:"weight"`
}

// Pool maps host name to its entry.
type Pool map[string]Server

// Equal reports whether two pools are identical.
func (p Pool) Equal(o Pool) bool { return maps.Equal(p, o) }

// Hosts lists the host names sorted.
func (p Pool) Hosts() []string {
	out := make([]string, 0, len(p))
	for h := range p {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// MaxWeight is the largest weight ipvsadm accepts.
const MaxWeight = 65535

// ParseLegacy parses PyBal's line format, one dict literal per host, e.g.
// { 'host': 'mw1020.eqiad.wmnet', 'weight': 10, 'enabled': True }.
// Blank and '#' lines are skipped; a bad line (unparsable, missing host,
// weight or enabled, or of the wrong type — True is not an int, 10.0 and
// "10" are not ints, "False" is not a bool) is returned in bad, as
// `file:line: bad configuration line "...": reason`, and skipped; file
// names the document (a path, or the URL of a source without one).
// Unlike PyBal, a key of the wrong type rejects the line instead of silently
// falling back to a default (which could pool a host meant to be disabled).
func ParseLegacy(file string, data []byte) (p Pool, bad conf.Errors) {
	p = Pool{}
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		host, srv, err := parseLine(t)
		if err != nil {
			bad = append(bad, &conf.Error{Pos: conf.At(file, i+1), Reason: fmt.Sprintf("bad configuration line %q: %v", t, err), Err: err})
			continue
		}
		p[host] = srv
	}
	return p, bad
}

func parseLine(t string) (string, Server, error) {
	v, err := pylit.Parse(t)
	if err != nil {
		return "", Server{}, err
	}
	d, ok := v.(*pylit.Dict)
	if !ok {
		return "", Server{}, fmt.Errorf("not a dict but %s", pylit.TypeName(v))
	}
	hv, ok := d.Get("host")
	host, isStr := hv.(string)
	if !ok || !isStr || strings.TrimSpace(host) == "" {
		return "", Server{}, fmt.Errorf("'host' must be a non-empty str")
	}
	wv, ok := d.Get("weight")
	if !ok {
		return "", Server{}, fmt.Errorf("'weight' missing")
	}
	w, isInt := wv.(int64)
	if !isInt {
		return "", Server{}, fmt.Errorf("'weight' must be an int, not %s", pylit.TypeName(wv))
	}
	if w < 0 || w > MaxWeight {
		return "", Server{}, fmt.Errorf("'weight' %d out of range 0-%d", w, MaxWeight)
	}
	ev, ok := d.Get("enabled")
	if !ok {
		return "", Server{}, fmt.Errorf("'enabled' missing")
	}
	e, isBool := ev.(bool)
	if !isBool {
		return "", Server{}, fmt.Errorf("'enabled' must be a bool, not %s", pylit.TypeName(ev))
	}
	return host, Server{Enabled: e, Weight: uint32(w)}, nil
}
