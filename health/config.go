package health

import (
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// commonKeys are the keys every service type accepts (gdnsd's generic
// monitoring keys).
var commonKeys = []string{"plugin", "interval", "timeout", "up_thresh", "ok_thresh", "down_thresh"}

// pluginKeys are the keys each plugin adds to commonKeys.
var pluginKeys = map[string][]string{
	"http_status": {"port", "url_path", "vhost", "ok_codes"},
	"tcp_connect": {"port"},
	"extfile":     {"file", "direct", "def_ttl", "def_down"},
	"extmon":      {"cmd", "direct"},
	"static":      {"state", "ttl"},
	"up":          nil,
	"down":        nil,
}

// BuiltinTypes returns the built-in service types `up` (always UP) and
// `down` (always DOWN), which need no declaration and cannot be redefined.
func BuiltinTypes() map[string]*ServiceType {
	out := map[string]*ServiceType{}
	for _, n := range []string{"up", "down"} {
		t := defaults(n, conf.Pos{})
		t.Plugin = n
		out[n] = t
	}
	return out
}

func defaults(name string, pos conf.Pos) *ServiceType {
	return &ServiceType{Name: name, Pos: pos, Interval: 10 * time.Second, UpThresh: 20, OKThresh: 10, DownThresh: 10}
}

// ParseServiceTypes reads the `service_types:` mapping n (found at dotted
// path) with gdnsd's names, defaults and ranges. The result holds the
// declared types only (see BuiltinTypes). Every problem is reported as
// `file:line: path.NAME.key: reason`; nil n is an empty mapping.
func ParseServiceTypes(n *conf.Node, path string) (map[string]*ServiceType, error) {
	out := map[string]*ServiceType{}
	if n == nil || n.Kind == conf.NullNode {
		return out, nil
	}
	var l conf.List
	if !l.Mapping(n, path, "a mapping of service type names") {
		return nil, l.Err()
	}
	l.Pairs(n, path, func(name string, k, v *conf.Node) {
		kp := conf.Join(path, name)
		switch {
		case name == "up" || name == "down":
			l.Addf(k.Pos, kp, "%q is built in and cannot be redefined", name)
			return
		case name == "" || strings.ContainsAny(name, "/ \t*?[]\\"):
			l.Addf(k.Pos, kp, "a service type name may not be empty or contain '/', blanks or glob characters")
			return
		}
		if t := parseType(&l, name, k, v, kp); t != nil {
			out[name] = t
		}
	})
	if err := l.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func parseType(l *conf.List, name string, k, v *conf.Node, path string) *ServiceType {
	if !l.Mapping(v, path, "a mapping with at least plugin") {
		return nil
	}
	pn := v.Get("plugin")
	plugin, _ := pn.Str()
	if pn == nil {
		l.Addf(k.Pos, conf.Join(path, "plugin"), "required (one of %s)", conf.OneOf(Plugins))
		return nil
	}
	extra, ok := pluginKeys[plugin]
	if !ok {
		l.Addf(pn.Pos, conf.Join(path, "plugin"), "unknown plugin %q (expected %s)", pn.Value, conf.OneOf(Plugins))
		return nil
	}
	t := defaults(name, k.Pos)
	t.Plugin = plugin
	if plugin == "http_status" {
		t.Port, t.URLPath, t.OKCodes = 80, "/", []int{200}
	}
	nErr := l.Len()
	var timeoutNode *conf.Node
	r := reader{l: l}
	l.Fields(v, path, append(append([]string(nil), commonKeys...), extra...), func(key string, _, v *conf.Node) {
		kp := conf.Join(path, key)
		switch key {
		case "interval":
			t.Interval = time.Duration(r.intIn(v, kp, 2, 3600)) * time.Second
		case "timeout":
			timeoutNode = v
			t.Timeout = time.Duration(r.intIn(v, kp, 1, 300)) * time.Second
		case "up_thresh":
			t.UpThresh = r.intIn(v, kp, 1, 65535)
		case "ok_thresh":
			t.OKThresh = r.intIn(v, kp, 1, 65535)
		case "down_thresh":
			t.DownThresh = r.intIn(v, kp, 1, 65535)
		case "port":
			t.Port = uint16(r.intIn(v, kp, 1, 65534))
		case "url_path":
			t.URLPath = r.str(v, kp)
		case "vhost":
			t.VHost = r.str(v, kp)
		case "ok_codes":
			t.OKCodes = r.codes(v, kp)
		case "file":
			t.File = r.str(v, kp)
		case "cmd":
			t.Cmd = r.strs(v, kp, 254)
		case "direct":
			t.Direct = r.boolean(v, kp)
		case "def_down":
			t.DefDown = r.boolean(v, kp)
		case "ttl":
			t.TTL = uint32(r.intIn(v, kp, 1, MaxTTL))
		case "def_ttl":
			t.DefTTL = uint32(r.intIn(v, kp, 1, MaxTTL))
		case "state":
			s := strings.ToUpper(r.str(v, kp))
			if s != "UP" && s != "DOWN" && s != "" {
				l.Addf(v.Pos, kp, "expected up or down, found %q", v.Value)
			}
			t.State = s
		}
	})
	switch {
	case timeoutNode == nil:
		t.Timeout = t.Interval / time.Second / 2 * time.Second
	case t.Timeout >= t.Interval && l.Len() == nErr:
		l.Addf(timeoutNode.Pos, conf.Join(path, "timeout"), "must be less than interval (%d)", int(t.Interval/time.Second))
	}
	required := map[string]bool{"tcp_connect": t.Port == 0, "extfile": t.File == "", "extmon": len(t.Cmd) == 0, "static": t.State == ""}
	if required[plugin] {
		key := map[string]string{"tcp_connect": "port", "extfile": "file", "extmon": "cmd", "static": "state"}[plugin]
		if v.Get(key) == nil {
			l.Addf(k.Pos, conf.Join(path, key), "required by plugin %s", plugin)
		}
	}
	if l.Len() != nErr {
		return nil
	}
	return t
}

// reader reads typed values, reporting the wrong ones to l.
type reader struct{ l *conf.List }

func (r reader) boolean(v *conf.Node, path string) bool {
	b, ok := v.Bool()
	if !ok {
		r.l.Addf(v.Pos, path, "expected true or false, found %s", v.Describe())
	}
	return b
}

func (r reader) intIn(v *conf.Node, path string, lo, hi int) int {
	n, ok := v.Int()
	if !ok || n < lo || n > hi {
		r.l.Addf(v.Pos, path, "expected a whole number from %d to %d, found %s", lo, hi, show(v))
		return 0
	}
	return n
}

func (r reader) str(v *conf.Node, path string) string {
	s, ok := v.Str()
	if !ok || s == "" {
		r.l.Addf(v.Pos, path, "expected a non-empty string, found %s", show(v))
	}
	return s
}

// strs reads a list of 1..max strings; a single string is a one-element
// list, as in gdnsd.
func (r reader) strs(v *conf.Node, path string, max int) []string {
	elems := []*conf.Node{v}
	if v.Kind == conf.SequenceNode {
		elems = v.Content
	}
	if len(elems) == 0 || len(elems) > max {
		r.l.Addf(v.Pos, path, "expected 1 to %d strings", max)
		return nil
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		out = append(out, r.str(e, path))
	}
	return out
}

func (r reader) codes(v *conf.Node, path string) []int {
	elems := []*conf.Node{v}
	if v.Kind == conf.SequenceNode {
		elems = v.Content
	}
	if len(elems) == 0 {
		r.l.Addf(v.Pos, path, "expected at least one HTTP status code")
		return nil
	}
	out := make([]int, 0, len(elems))
	for _, e := range elems {
		out = append(out, r.intIn(e, path, 100, 999))
	}
	return out
}

// show quotes a scalar's text and describes anything else.
func show(v *conf.Node) string {
	if s, ok := v.Str(); ok {
		return "\"" + s + "\""
	}
	return v.Describe()
}
