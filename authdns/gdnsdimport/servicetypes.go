package gdnsdimport

import (
	"path/filepath"
	"strconv"

	"github.com/geotraffic/geotraffic/vscf"
)

// serviceTypes translates gdnsd's service_types into authdns.yaml's:
// the same names and keys, numbers as gdnsd reads them, extfile paths made
// absolute under the state directory.
func (t *translator) serviceTypes(p *vscf.Pair) {
	v := p.Value
	if v.Kind != vscf.Hash {
		t.notef(v.Pos, "service_types", Error, "want a hash of service types, found %s", v.Kind)
		return
	}
	out := yMapOf()
	out.end = v.EndComments
	for _, tp := range v.Pairs {
		path := "service_types." + tp.Key
		if tp.Value.Kind != vscf.Hash {
			t.notef(tp.Value.Pos, path, Error, "want a hash with at least plugin, found %s", tp.Value.Kind)
			continue
		}
		if plugin := tp.Value.Get("plugin"); plugin != nil && plugin.Value == "null" {
			t.addPair(out, tp, t.nullMonitor(tp.Value, path))
			continue
		}
		t.addPair(out, tp, t.convert(tp.Value, path, t.serviceKey))
	}
	t.addPair(t.cfg, p, out)
}

// serviceKey rewrites one key of a service type.
func (t *translator) serviceKey(key string, v *vscf.Node, path string) *ynode {
	switch key {
	case "interval", "timeout", "up_thresh", "ok_thresh", "down_thresh", "port", "ttl", "def_ttl":
		return uintValue(v)
	case "direct", "def_down":
		return boolValue(v)
	case "ok_codes":
		s := &ynode{kind: ySeq}
		for _, c := range v.List() {
			y := uintValue(c)
			if y == nil {
				return nil
			}
			s.items = append(s.items, &yitem{v: y, comments: c.Comments, line: c.LineComment})
		}
		return s
	case "file":
		if v.Kind != vscf.Scalar || v.Value == "" || filepath.IsAbs(v.Value) {
			return nil
		}
		abs := filepath.Join(t.stateDir, "extfile", v.Value)
		t.notef(v.Pos, path, Warning, "translated as %s: gdnsd reads a relative extfile under STATE/extfile/", abs)
		return yStr(abs)
	case "max_proc":
		t.notef(v.Pos, path, Warning, "not translated: authdns bounds the checks running at once for all service types together")
		return dropped
	}
	return nil
}

// nullMonitor translates a service type of gdnsd's null plugin, whose
// checks always fail: as static DOWN with the TTL gdnsd's state machine
// gives a monitor that never succeeds, interval × up_thresh.
func (t *translator) nullMonitor(v *vscf.Node, path string) *ynode {
	interval, up := uint64(10), uint64(20)
	if n := v.Get("interval"); n != nil {
		if u, err := n.Uint(); err == nil {
			interval = u
		}
	}
	if n := v.Get("up_thresh"); n != nil {
		if u, err := n.Uint(); err == nil {
			up = u
		}
	}
	ttl := strconv.FormatUint(interval*up, 10)
	t.notef(v.Pos, path, Warning, "plugin null (checks that always fail) translated as plugin static, state down, ttl %s (interval × up_thresh, the TTL gdnsd gives it)", ttl)
	m := yMapOf()
	m.add("plugin", yStr("static"))
	m.add("state", yStr("down"))
	m.add("ttl", yStr(ttl))
	return m
}
