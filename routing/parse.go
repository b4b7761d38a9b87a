package routing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// overrideLine is the line of everything an override sets. YAML lines
// start at 1, so it cannot be mistaken for a line of the file.
const overrideLine = 0

// overrideMark follows the key of a problem in an override (see
// WithOverrides), which has no file or line.
const overrideMark = " (override)"

// OverrideKey tells whether e is about an override and, if so, the dotted
// path of the key it is about.
func OverrideKey(e *conf.Error) (string, bool) {
	return strings.CutSuffix(e.Key, overrideMark)
}

// errList collects the problems of routing.yaml (or of a value, or of
// overrides) by line; problems of overrides come first, then those of the
// file in line order.
type errList struct {
	file  string
	over  conf.List // problems of overrides: no position
	list  conf.List
	warns conf.List
}

func (l *errList) add(line int, key, format string, args ...any) {
	if line == overrideLine {
		l.over.Add(&conf.Error{Key: key + overrideMark, Reason: fmt.Sprintf(format, args...)})
		return
	}
	l.list.Addf(conf.At(l.file, line), key, format, args...)
}

// warn records a problem that does not reject the file.
func (l *errList) warn(line int, key, format string, args ...any) {
	l.warns.Addf(conf.At(l.file, line), key, format, args...)
}

func (l *errList) len() int { return l.over.Len() + l.list.Len() }

// err returns every problem, overrides' first, then by position; nil when
// there is none.
func (l *errList) err() error {
	if l.len() == 0 {
		return nil
	}
	return append(l.over.Sorted(), l.list.Sorted()...)
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
	root, err := conf.DecodeYAML(file, data)
	if err != nil {
		return nil, err
	}
	l := &errList{file: file}
	cfg := &Config{File: file, Sites: map[string]Site{}, Clusters: map[string]*Cluster{}}
	if root == nil {
		l.add(1, "", "empty file: expected `sites:` and `clusters:`")
		return nil, l.err()
	}
	if root.Kind != conf.MappingNode {
		l.add(root.Pos.Line, "", "expected a mapping with `sites:` and `clusters:`")
		return nil, l.err()
	}
	var sitesNode, clustersNode *conf.Node
	l.list.Fields(root, "", []string{"sites", "clusters"}, func(key string, _, v *conf.Node) {
		if key == "sites" {
			sitesNode = v
		} else {
			clustersNode = v
		}
	})
	if sitesNode == nil {
		l.add(root.Pos.Line, "sites", "missing: every site needs coordinates")
	} else {
		parseSites(l, cfg, sitesNode)
	}
	if clustersNode == nil {
		l.add(root.Pos.Line, "clusters", "missing: at least one cluster is needed")
	} else {
		parseClusters(l, cfg, clustersNode)
	}
	if l.len() == 0 {
		validate(l, cfg)
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	cfg.Warnings = l.warns.Sorted()
	return cfg, nil
}

func join(prefix, key string) string { return conf.Join(prefix, key) }

// mapping checks that v is a mapping; an explicit null is allowed when
// emptyOK, so `apps:` with nothing under it means no apps.
func mapping(l *errList, v *conf.Node, path string, emptyOK bool) bool {
	if emptyOK && v.Kind == conf.NullNode {
		return false
	}
	if v.Kind != conf.MappingNode {
		l.add(v.Pos.Line, path, "expected a mapping")
		return false
	}
	return true
}

// name reads a scalar used as a name (site, DC); "" after an error.
func name(l *errList, v *conf.Node, path string) string {
	if v.Kind != conf.ScalarNode || v.Value == "" {
		l.add(v.Pos.Line, path, "expected a name")
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

func parseSites(l *errList, cfg *Config, n *conf.Node) {
	if !mapping(l, n, "sites", false) {
		return
	}
	if len(n.Content) == 0 {
		l.add(n.Pos.Line, "sites", "empty: at least one site is needed")
	}
	l.list.Pairs(n, "sites", func(sname string, k, v *conf.Node) {
		path := join("sites", sname)
		if !checkName(l, k.Pos.Line, path, "site", sname) || !mapping(l, v, path, false) {
			return
		}
		s := Site{Name: sname, Line: k.Pos.Line}
		var have bool
		l.list.Fields(v, path, []string{"coords"}, func(key string, _, v2 *conf.Node) {
			switch key {
			case "coords":
				have = parseCoords(l, v2, join(path, key), &s)
			}
		})
		if !have {
			if v.Key("coords") == nil {
				l.add(k.Pos.Line, path, "missing coords: [latitude, longitude]")
			}
			return
		}
		cfg.Sites[sname] = s
	})
}

func parseCoords(l *errList, v *conf.Node, path string, s *Site) bool {
	if v.Kind != conf.SequenceNode || len(v.Content) != 2 {
		l.add(v.Pos.Line, path, "expected [latitude, longitude]")
		return false
	}
	var ll [2]float64
	for i, c := range v.Content {
		f, err := strconv.ParseFloat(c.Value, 64)
		if c.Kind != conf.ScalarNode || err != nil {
			l.add(c.Pos.Line, path, "%q is not a number", c.Value)
			return false
		}
		ll[i] = f
	}
	if ll[0] < -90 || ll[0] > 90 || ll[1] < -180 || ll[1] > 180 {
		l.add(v.Pos.Line, path, "latitude must be in [-90, 90] and longitude in [-180, 180], got [%g, %g]", ll[0], ll[1])
		return false
	}
	s.Lat, s.Lon = ll[0], ll[1]
	return true
}

func parseClusters(l *errList, cfg *Config, n *conf.Node) {
	if !mapping(l, n, "clusters", false) {
		return
	}
	if len(n.Content) == 0 {
		l.add(n.Pos.Line, "clusters", "empty: at least one cluster is needed")
	}
	l.list.Pairs(n, "clusters", func(cname string, k, v *conf.Node) {
		path := join("clusters", cname)
		if !checkName(l, k.Pos.Line, path, "cluster", cname) || !mapping(l, v, path, false) {
			return
		}
		c := &Cluster{Name: cname, Line: k.Pos.Line, Routes: map[string]Route{}, Shutdown: map[string]int{}, Apps: map[string]*App{}}
		var haveTable bool
		l.list.Fields(v, path, []string{"route_table", "traffic_shutdown", "apps"}, func(key string, _, v2 *conf.Node) {
			p := join(path, key)
			switch key {
			case "route_table":
				haveTable = true
				parseRouteTable(l, c, v2, p)
			case "traffic_shutdown":
				parseShutdown(l, c, v2, p)
			case "apps":
				parseApps(l, c, v2, p)
			}
		})
		if !haveTable {
			l.add(k.Pos.Line, path, "missing route_table")
		}
		cfg.Clusters[cname] = c
	})
}

func parseRouteTable(l *errList, c *Cluster, n *conf.Node, path string) {
	if n.Kind == conf.NullNode || (n.Kind == conf.MappingNode && len(n.Content) == 0) {
		l.add(n.Pos.Line, path, "empty route_table: every cluster needs at least one direct site")
		return
	}
	if !mapping(l, n, path, false) {
		return
	}
	l.list.Pairs(n, path, func(site string, k, v *conf.Node) {
		if r, ok := parseRoute(l, site, k.Pos.Line, v, join(path, site)); ok {
			c.Routes[site] = r
		}
	})
}

// parseRoute reads the value of one route_table entry (also the route of
// a route override value, with no site and no line).
func parseRoute(l *errList, site string, line int, v *conf.Node, p string) (Route, bool) {
	r := Route{Site: site, Line: line}
	switch v.Kind {
	case conf.ScalarNode, conf.NullNode: // name refuses a null
		hop := name(l, v, p)
		if hop == "" {
			return r, false
		}
		if hop == "direct" {
			r.Direct = true
		} else {
			r.Choices, r.choiceLines = []string{hop}, []int{v.Pos.Line}
		}
	case conf.SequenceNode:
		if len(v.Content) == 0 {
			l.add(v.Pos.Line, p, "empty list of choices")
			return r, false
		}
		for _, item := range v.Content {
			if !addChoice(l, &r, name(l, item, p), item.Pos.Line, p) {
				return r, false
			}
		}
		return r, noRepeat(l, r.Choices, r.choiceLines, p, "choice")
	default:
		l.add(v.Pos.Line, p, "expected `direct`, a site, or a list of sites")
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

func parseShutdown(l *errList, c *Cluster, n *conf.Node, path string) {
	if n.Kind == conf.NullNode {
		return
	}
	if n.Kind != conf.SequenceNode {
		l.add(n.Pos.Line, path, "expected a list of sites")
		return
	}
	for _, item := range n.Content {
		s := name(l, item, path)
		if s == "" {
			continue
		}
		if first, dup := c.Shutdown[s]; dup {
			l.add(item.Pos.Line, path, "site %q is listed twice (first at line %d)", s, first)
			continue
		}
		c.Shutdown[s] = item.Pos.Line
	}
}

func parseApps(l *errList, c *Cluster, n *conf.Node, path string) {
	if !mapping(l, n, path, true) {
		return
	}
	l.list.Pairs(n, path, func(aname string, k, v *conf.Node) {
		p := join(path, aname)
		if !checkName(l, k.Pos.Line, p, "app", aname) || !mapping(l, v, p, false) {
			return
		}
		a := &App{Name: aname, Line: k.Pos.Line, Backends: map[string]string{}, backendLines: map[string]int{}}
		var haveRoute, haveBackends bool
		l.list.Fields(v, p, []string{"route", "backends"}, func(key string, _, v2 *conf.Node) {
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
					l.add(v2.Pos.Line, p2, "empty: an app needs at least one backend")
				}
				l.list.Pairs(v2, p2, func(dc string, hk, hv *conf.Node) {
					if host := name(l, hv, join(p2, dc)); host != "" {
						a.Backends[dc] = host
						a.backendLines[dc] = hk.Pos.Line
					}
				})
			}
		})
		if !haveRoute && v.Key("route") == nil {
			l.add(k.Pos.Line, p, "missing route: a DC, an ordered list, or {active-active: [DC, ...]}")
		}
		if !haveBackends {
			l.add(k.Pos.Line, p, "missing backends: {DC: host, ...}")
		}
		c.Apps[aname] = a
	})
}

func parseAppRoute(l *errList, a *App, v *conf.Node, path string) bool {
	list := func(n *conf.Node, p string) bool {
		if n.Kind == conf.ScalarNode || n.Kind == conf.NullNode {
			if dc := name(l, n, p); dc != "" {
				a.DCs, a.dcLines = []string{dc}, []int{n.Pos.Line}
				return true
			}
			return false
		}
		if n.Kind != conf.SequenceNode || len(n.Content) == 0 {
			l.add(n.Pos.Line, p, "expected a DC or a non-empty list of DCs")
			return false
		}
		for _, item := range n.Content {
			dc := name(l, item, p)
			if dc == "" {
				return false
			}
			a.DCs = append(a.DCs, dc)
			a.dcLines = append(a.dcLines, item.Pos.Line)
		}
		return noRepeat(l, a.DCs, a.dcLines, p, "DC")
	}
	if v.Kind == conf.MappingNode {
		a.Mode = ActiveActive
		ok := false
		l.list.Fields(v, path, []string{"active-active"}, func(key string, _, v2 *conf.Node) {
			ok = list(v2, join(path, key))
		})
		if !ok && v.Key("active-active") == nil {
			l.add(v.Pos.Line, path, "expected {active-active: [DC, ...]}")
		}
		return ok
	}
	a.Mode = Ordered
	return list(v, path)
}
