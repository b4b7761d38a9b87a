package routing

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Error is one problem in routing.yaml, located by file, line and key.
type Error struct {
	File string // "" for a problem in a route value, whose caller names its source
	Line int
	Key  string // dotted path, e.g. clusters.text.route_table.ulsfo
	Msg  string
	// Override: the problem is in an override (see WithOverrides), which
	// has no file or line, so the key is marked instead.
	Override bool
}

func (e *Error) Error() string {
	var loc string
	switch {
	case e.Override:
		return fmt.Sprintf("%s (override): %s", e.Key, e.Msg)
	case e.File != "" && e.Line == 0: // a source without lines, e.g. an etcd key
		loc = e.File + ": "
	case e.File != "":
		loc = fmt.Sprintf("%s:%d: ", e.File, e.Line)
	}
	if e.Key == "" {
		return loc + e.Msg
	}
	return loc + e.Key + ": " + e.Msg
}

// overrideLine is the line of everything an override sets. YAML lines
// start at 1, so it cannot be mistaken for a line of the file.
const overrideLine = 0

type errList struct {
	file  string
	errs  []*Error
	warns []*Error
}

func (l *errList) add(line int, key, format string, args ...any) {
	l.errs = append(l.errs, l.newError(line, key, format, args...))
}

// warn records a problem that does not reject the file.
func (l *errList) warn(line int, key, format string, args ...any) {
	l.warns = append(l.warns, l.newError(line, key, format, args...))
}

func (l *errList) newError(line int, key, format string, args ...any) *Error {
	if line == overrideLine {
		return &Error{Key: key, Msg: fmt.Sprintf(format, args...), Override: true}
	}
	return &Error{File: l.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// err joins the collected errors in file order, or returns nil.
func (l *errList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line })
	out := make([]error, len(l.errs))
	for i, e := range l.errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// Load reads, parses and validates path. Every problem is reported, each
// as `file:line: key: reason`; any problem rejects the whole file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	return Parse(path, data)
}

// Digest identifies file contents, so a watcher can tell a real change.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Parse parses and validates the bytes of a routing.yaml named file.
func Parse(file string, data []byte) (*Config, error) {
	doc, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	l := &errList{file: file}
	cfg := &Config{File: file, Sites: map[string]Site{}, Clusters: map[string]*Cluster{}}
	if len(doc.Content) == 0 {
		l.add(1, "", "empty file: expected `sites:` and `clusters:`")
		return nil, l.err()
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		l.add(root.Line, "", "expected a mapping with `sites:` and `clusters:`")
		return nil, l.err()
	}
	var sitesNode, clustersNode *yaml.Node
	eachPair(l, root, "", func(key string, k, v *yaml.Node) {
		switch key {
		case "sites":
			sitesNode = v
		case "clusters":
			clustersNode = v
		default:
			l.add(k.Line, key, "unknown key (expected sites or clusters)")
		}
	})
	if sitesNode == nil {
		l.add(root.Line, "sites", "missing: every site needs coordinates")
	} else {
		parseSites(l, cfg, sitesNode)
	}
	if clustersNode == nil {
		l.add(root.Line, "clusters", "missing: at least one cluster is needed")
	} else {
		parseClusters(l, cfg, clustersNode)
	}
	if len(l.errs) == 0 {
		validate(l, cfg)
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	sort.SliceStable(l.warns, func(i, j int) bool { return l.warns[i].Line < l.warns[j].Line })
	cfg.Warnings = l.warns
	return cfg, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// eachPair walks a mapping in file order, refusing non-scalar and
// duplicate keys (yaml.v3 accepts duplicates in a Node tree silently).
func eachPair(l *errList, m *yaml.Node, path string, f func(key string, k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), deref(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			l.add(k.Line, path, "keys must be plain names")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			l.add(k.Line, join(path, k.Value), "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		f(k.Value, k, v)
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// mapping checks that v is a mapping; an explicit null is allowed when
// emptyOK, so `apps:` with nothing under it means no apps.
func mapping(l *errList, v *yaml.Node, path string, emptyOK bool) bool {
	if emptyOK && isNull(v) {
		return false
	}
	if v.Kind != yaml.MappingNode {
		l.add(v.Line, path, "expected a mapping")
		return false
	}
	return true
}

// name reads a scalar used as a name (site, DC); "" after an error.
func name(l *errList, v *yaml.Node, path string) string {
	if v.Kind != yaml.ScalarNode || isNull(v) || v.Value == "" {
		l.add(v.Line, path, "expected a name")
		return ""
	}
	return v.Value
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// checkName refuses names that cannot appear in /routes/<cluster>/<site>.
func checkName(l *errList, line int, path, what, n string) bool {
	if !nameRE.MatchString(n) {
		l.add(line, path, "%s name %q: use letters, digits, '-', '_' and '.'", what, n)
		return false
	}
	if n == "direct" {
		l.add(line, path, "%s name %q is reserved", what, n)
		return false
	}
	return true
}

func parseSites(l *errList, cfg *Config, n *yaml.Node) {
	if !mapping(l, n, "sites", false) {
		return
	}
	if len(n.Content) == 0 {
		l.add(n.Line, "sites", "empty: at least one site is needed")
	}
	eachPair(l, n, "sites", func(sname string, k, v *yaml.Node) {
		path := join("sites", sname)
		if !checkName(l, k.Line, path, "site", sname) || !mapping(l, v, path, false) {
			return
		}
		s := Site{Name: sname, Line: k.Line}
		var have bool
		eachPair(l, v, path, func(key string, k2, v2 *yaml.Node) {
			switch key {
			case "coords":
				have = parseCoords(l, v2, join(path, key), &s)
			default:
				l.add(k2.Line, join(path, key), "unknown key (expected coords)")
			}
		})
		if !have {
			if !hasKey(v, "coords") {
				l.add(k.Line, path, "missing coords: [latitude, longitude]")
			}
			return
		}
		cfg.Sites[sname] = s
	})
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

func parseCoords(l *errList, v *yaml.Node, path string, s *Site) bool {
	if v.Kind != yaml.SequenceNode || len(v.Content) != 2 {
		l.add(v.Line, path, "expected [latitude, longitude]")
		return false
	}
	var ll [2]float64
	for i, c := range v.Content {
		c = deref(c)
		f, err := strconv.ParseFloat(c.Value, 64)
		if c.Kind != yaml.ScalarNode || err != nil {
			l.add(c.Line, path, "%q is not a number", c.Value)
			return false
		}
		ll[i] = f
	}
	if ll[0] < -90 || ll[0] > 90 || ll[1] < -180 || ll[1] > 180 {
		l.add(v.Line, path, "latitude must be in [-90, 90] and longitude in [-180, 180], got [%g, %g]", ll[0], ll[1])
		return false
	}
	s.Lat, s.Lon = ll[0], ll[1]
	return true
}

func parseClusters(l *errList, cfg *Config, n *yaml.Node) {
	if !mapping(l, n, "clusters", false) {
		return
	}
	if len(n.Content) == 0 {
		l.add(n.Line, "clusters", "empty: at least one cluster is needed")
	}
	eachPair(l, n, "clusters", func(cname string, k, v *yaml.Node) {
		path := join("clusters", cname)
		if !checkName(l, k.Line, path, "cluster", cname) || !mapping(l, v, path, false) {
			return
		}
		c := &Cluster{Name: cname, Line: k.Line, Routes: map[string]Route{}, Shutdown: map[string]int{}, Apps: map[string]*App{}}
		var haveTable bool
		eachPair(l, v, path, func(key string, k2, v2 *yaml.Node) {
			p := join(path, key)
			switch key {
			case "route_table":
				haveTable = true
				parseRouteTable(l, c, v2, p)
			case "traffic_shutdown":
				parseShutdown(l, c, v2, p)
			case "apps":
				parseApps(l, c, v2, p)
			default:
				l.add(k2.Line, p, "unknown key (expected route_table, traffic_shutdown or apps)")
			}
		})
		if !haveTable {
			l.add(k.Line, path, "missing route_table")
		}
		cfg.Clusters[cname] = c
	})
}

func parseRouteTable(l *errList, c *Cluster, n *yaml.Node, path string) {
	if isNull(n) || (n.Kind == yaml.MappingNode && len(n.Content) == 0) {
		l.add(n.Line, path, "empty route_table: every cluster needs at least one direct site")
		return
	}
	if !mapping(l, n, path, false) {
		return
	}
	eachPair(l, n, path, func(site string, k, v *yaml.Node) {
		if r, ok := parseRoute(l, site, k.Line, v, join(path, site)); ok {
			c.Routes[site] = r
		}
	})
}

// parseRoute reads the value of one route_table entry (also the route of
// a route override value, with no site and no line).
func parseRoute(l *errList, site string, line int, v *yaml.Node, p string) (Route, bool) {
	r := Route{Site: site, Line: line}
	switch v.Kind {
	case yaml.ScalarNode:
		hop := name(l, v, p)
		if hop == "" {
			return r, false
		}
		if hop == "direct" {
			r.Direct = true
		} else {
			r.Choices, r.choiceLines = []string{hop}, []int{v.Line}
		}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			l.add(v.Line, p, "empty list of choices")
			return r, false
		}
		for _, item := range v.Content {
			if !addChoice(l, &r, name(l, deref(item), p), item.Line, p) {
				return r, false
			}
		}
		return r, noRepeat(l, r.Choices, r.choiceLines, p, "choice")
	default:
		l.add(v.Line, p, "expected `direct`, a site, or a list of sites")
		return r, false
	}
	return r, true
}

// addChoice appends hop (already read as a name; "" after an error) to the
// choices of r, refusing `direct`; noRepeat checks the whole list after.
func addChoice(l *errList, r *Route, hop string, line int, p string) bool {
	switch hop {
	case "":
		return false
	case "direct":
		l.add(line, p, "`direct` must be the whole entry, not one choice of a list (a site with application backends is promoted to direct when its upstreams are down)")
		return false
	}
	r.Choices = append(r.Choices, hop)
	r.choiceLines = append(r.choiceLines, line)
	return true
}

// noRepeat refuses a list (of choices or DCs) naming a site twice, at the
// second mention. A set keeps it linear: a value may be long.
func noRepeat(l *errList, names []string, lines []int, p, what string) bool {
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if seen[n] {
			l.add(lines[i], p, "%s %q is listed twice", what, n)
			return false
		}
		seen[n] = true
	}
	return true
}

func parseShutdown(l *errList, c *Cluster, n *yaml.Node, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.add(n.Line, path, "expected a list of sites")
		return
	}
	for _, item := range n.Content {
		item = deref(item)
		s := name(l, item, path)
		if s == "" {
			continue
		}
		if first, dup := c.Shutdown[s]; dup {
			l.add(item.Line, path, "site %q is listed twice (first at line %d)", s, first)
			continue
		}
		c.Shutdown[s] = item.Line
	}
}

func parseApps(l *errList, c *Cluster, n *yaml.Node, path string) {
	if !mapping(l, n, path, true) {
		return
	}
	eachPair(l, n, path, func(aname string, k, v *yaml.Node) {
		p := join(path, aname)
		if !checkName(l, k.Line, p, "app", aname) || !mapping(l, v, p, false) {
			return
		}
		a := &App{Name: aname, Line: k.Line, Backends: map[string]string{}, backendLines: map[string]int{}}
		var haveRoute, haveBackends bool
		eachPair(l, v, p, func(key string, k2, v2 *yaml.Node) {
			p2 := join(p, key)
			switch key {
			case "route":
				haveRoute = parseAppRoute(l, a, v2, p2)
			case "backends":
				haveBackends = true
				if !mapping(l, v2, p2, false) {
					return
				}
				if len(v2.Content) == 0 {
					l.add(v2.Line, p2, "empty: an app needs at least one backend")
				}
				eachPair(l, v2, p2, func(dc string, hk, hv *yaml.Node) {
					if host := name(l, hv, join(p2, dc)); host != "" {
						a.Backends[dc] = host
						a.backendLines[dc] = hk.Line
					}
				})
			default:
				l.add(k2.Line, p2, "unknown key (expected route or backends)")
			}
		})
		if !haveRoute && !hasKey(v, "route") {
			l.add(k.Line, p, "missing route: a DC, an ordered list, or {active-active: [DC, ...]}")
		}
		if !haveBackends {
			l.add(k.Line, p, "missing backends: {DC: host, ...}")
		}
		c.Apps[aname] = a
	})
}

func parseAppRoute(l *errList, a *App, v *yaml.Node, path string) bool {
	list := func(n *yaml.Node, p string) bool {
		if n.Kind == yaml.ScalarNode {
			if dc := name(l, n, p); dc != "" {
				a.DCs, a.dcLines = []string{dc}, []int{n.Line}
				return true
			}
			return false
		}
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			l.add(n.Line, p, "expected a DC or a non-empty list of DCs")
			return false
		}
		for _, item := range n.Content {
			dc := name(l, deref(item), p)
			if dc == "" {
				return false
			}
			a.DCs = append(a.DCs, dc)
			a.dcLines = append(a.dcLines, item.Line)
		}
		return noRepeat(l, a.DCs, a.dcLines, p, "DC")
	}
	if v.Kind == yaml.MappingNode {
		a.Mode = ActiveActive
		ok := false
		eachPair(l, v, path, func(key string, k, v2 *yaml.Node) {
			if key != "active-active" {
				l.add(k.Line, join(path, key), "unknown key (expected active-active)")
				return
			}
			ok = list(v2, join(path, key))
		})
		if !ok && !hasKey(v, "active-active") {
			l.add(v.Line, path, "expected {active-active: [DC, ...]}")
		}
		return ok
	}
	a.Mode = Ordered
	return list(v, path)
}
