package conftool

import (
	"fmt"
	"strings"
)

// DefaultPrefix is conftool's own key prefix.
const DefaultPrefix = "/conftool/v1"

// Kind is an object type, as confctl's --object-type names it.
type Kind string

// The object kinds. Node is conftool's own; the others extend its layout.
const (
	Node       Kind = "node"
	Site       Kind = "site"
	AdminState Kind = "admin-state"
	Route      Kind = "route"
	AppRoute   Kind = "app-route"
)

// Kinds lists every kind, in the order tools print them.
func Kinds() []Kind { return []Kind{Node, Site, AdminState, Route, AppRoute} }

// ParseKind accepts a kind name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown object type %q (want node, site, admin-state, route or app-route)", s)
}

// dir is the kind's directory under the prefix.
func (k Kind) dir() string {
	switch k {
	case Node:
		return "pools"
	case Site:
		return "sites"
	case AdminState:
		return "admin-state"
	case Route:
		return "routes"
	case AppRoute:
		return "app-routes"
	}
	return ""
}

// Tags names the kind's tags in key order; the last one is the object's name.
func (k Kind) Tags() []string {
	switch k {
	case Node:
		return []string{"dc", "cluster", "service", "name"}
	case Site:
		return []string{"name"}
	case AdminState:
		return []string{"key"}
	case Route:
		return []string{"cluster", "site"}
	case AppRoute:
		return []string{"cluster", "app"}
	}
	return nil
}

// Layout places objects under one prefix.
type Layout struct{ Prefix string }

// NewLayout normalises prefix ("" means DefaultPrefix; no trailing slash).
func NewLayout(prefix string) Layout {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	prefix = "/" + strings.Trim(prefix, "/")
	return Layout{Prefix: prefix}
}

// Dir is the key prefix of every object of kind k, ending in "/".
func (l Layout) Dir(k Kind) string { return l.Prefix + "/" + k.dir() + "/" }

// LogDir is the prefix of the audit log records.
func (l Layout) LogDir() string { return l.Prefix + "/log/" }

// Key is the etcd key of the object of kind k with these tag values.
func (l Layout) Key(k Kind, tags ...string) (string, error) {
	names := k.Tags()
	if len(tags) != len(names) {
		return "", fmt.Errorf("%s: want %d tags (%s), got %d", k, len(names), strings.Join(names, ", "), len(tags))
	}
	for i, v := range tags {
		if err := checkTag(k, names[i], v); err != nil {
			return "", err
		}
	}
	return l.Dir(k) + strings.Join(tags, "/"), nil
}

// checkTag refuses values that would make a key ambiguous. Only the
// admin-state key may hold "/", as admin_state keys do (geoip/MAP/DC).
func checkTag(k Kind, name, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("%s: empty %s", k, name)
	case k != AdminState && strings.Contains(v, "/"):
		return fmt.Errorf("%s: %s %q contains /", k, name, v)
	case strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/") || strings.Contains(v, "//"):
		return fmt.Errorf("%s: %s %q has an empty path element", k, name, v)
	}
	return nil
}

// Parse splits an etcd key into its kind and tag values; ok is false for a
// key outside the layout (the audit log, or a stray key).
func (l Layout) Parse(key string) (k Kind, tags []string, ok bool) {
	for _, k := range Kinds() {
		rest, found := strings.CutPrefix(key, l.Dir(k))
		if !found {
			continue
		}
		n := len(k.Tags())
		var parts []string
		if k == AdminState {
			parts = []string{rest}
		} else {
			parts = strings.Split(rest, "/")
		}
		if len(parts) != n {
			return "", nil, false
		}
		for i, v := range parts {
			if checkTag(k, k.Tags()[i], v) != nil {
				return "", nil, false
			}
		}
		return k, parts, true
	}
	return "", nil, false
}
