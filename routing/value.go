package routing

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// RouteSpec is one route_table entry without its site: what a route
// override sets.
type RouteSpec struct {
	Direct  bool
	Choices []string // ordered next hops; empty when Direct
	// Source names where the value came from (e.g. "etcd KEY@REVISION"),
	// for explanations; it is not part of the value (Equal and Value
	// ignore it).
	Source string
}

// AppRouteSpec is an app's route without its backends: what an app-route
// override sets.
type AppRouteSpec struct {
	Mode AppMode
	DCs  []string
	// Source is as RouteSpec's.
	Source string
}

// ParseRouteValue parses a route value, `{"route": R}`, where R is what a
// route_table entry accepts: "direct", a site, or an ordered list of sites.
// Names are checked against a Config by WithOverrides, not here. Errors
// carry no location: the caller prepends the value's source (its key).
func ParseRouteValue(data []byte) (RouteSpec, error) {
	l := &errList{}
	v := valueRoute(l, data)
	if v == nil {
		return RouteSpec{}, valueError(l)
	}
	r, ok := parseRoute(l, "", v.Pos.Line, v, "route")
	if l.len() > 0 || !ok {
		return RouteSpec{}, valueError(l)
	}
	return RouteSpec{Direct: r.Direct, Choices: r.Choices}, nil
}

// ParseAppRouteValue parses an app-route value, `{"route": R}`, where R is
// what an app's route accepts: a DC, an ordered list of DCs, or
// {"active-active": [DC, ...]}. As for ParseRouteValue, DCs are checked by
// WithOverrides and errors carry no location.
func ParseAppRouteValue(data []byte) (AppRouteSpec, error) {
	l := &errList{}
	v := valueRoute(l, data)
	if v == nil {
		return AppRouteSpec{}, valueError(l)
	}
	a := &App{}
	ok := parseAppRoute(l, a, v, "route")
	// An unknown key beside active-active is refused while ok stays true.
	if l.len() > 0 || !ok {
		return AppRouteSpec{}, valueError(l)
	}
	return AppRouteSpec{Mode: a.Mode, DCs: a.DCs}, nil
}

// valueRoute returns the node under the one field, "route", of a value;
// nil after an error. The YAML layer reads it (JSON is YAML), so a value
// is read by the same code, with the same rules, as routing.yaml.
func valueRoute(l *errList, data []byte) *conf.Node {
	root, err := conf.DecodeYAML("", data)
	if err != nil {
		l.add(1, "", "%s", valueSyntax(err))
		return nil
	}
	if root == nil {
		l.add(1, "", `empty value: expected {"route": ...}`)
		return nil
	}
	if root.Kind != conf.MappingNode {
		l.add(root.Pos.Line, "", `expected a JSON object {"route": ...}`)
		return nil
	}
	var route *conf.Node
	l.list.Pairs(root, "", func(key string, k, v *conf.Node) {
		if key != "route" {
			l.add(k.Pos.Line, key, "unknown field (expected route)")
			return
		}
		route = v
	})
	if route == nil && l.len() == 0 {
		l.add(root.Pos.Line, "route", "missing")
	}
	if l.len() > 0 {
		return nil
	}
	return route
}

// valueSyntax words a DecodeYAML error for a value, which is JSON and one
// value rather than a routing.yaml file.
func valueSyntax(err error) string {
	var e *conf.Error
	if !errors.As(err, &e) {
		return "invalid JSON: " + err.Error()
	}
	if strings.HasPrefix(e.Reason, "a second YAML document") {
		return "expected one JSON object, found more than one document"
	}
	msg := strings.TrimPrefix(strings.TrimPrefix(e.Reason, "YAML syntax: "), "YAML: ")
	return "invalid JSON: " + msg
}

// Value encodes s as ParseRouteValue reads it, using the single-name form
// for one choice, so a route can be written back as it was read.
func (s RouteSpec) Value() []byte {
	var route any = s.Choices
	switch {
	case s.Direct:
		route = "direct"
	case len(s.Choices) == 1:
		route = s.Choices[0]
	}
	return mustJSON(map[string]any{"route": route})
}

// Value encodes s as ParseAppRouteValue reads it.
func (s AppRouteSpec) Value() []byte {
	var route any = s.DCs
	switch {
	case s.Mode == ActiveActive:
		route = map[string][]string{"active-active": s.DCs}
	case len(s.DCs) == 1:
		route = s.DCs[0]
	}
	return mustJSON(map[string]any{"route": route})
}

// valueError joins a value's problems on one line, without positions,
// since the caller prepends the value's source (its key) to the message.
// A refusal with no reason (a parse function that failed silently) is
// still a refusal.
func valueError(l *errList) error {
	errs, ok := l.err().(conf.Errors)
	if !ok || len(errs) == 0 {
		return errors.New("route: refused (internal error: no reason given)")
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		e = &conf.Error{Key: e.Key, Reason: e.Reason, Err: e.Err}
		if len(errs) == 1 {
			return e
		}
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

func mustJSON(v any) []byte {
	out, err := json.Marshal(v)
	if err != nil { // strings, lists and maps of strings always encode
		panic("routing: encoding a route value: " + err.Error())
	}
	return out
}

// Equal reports whether two specs route alike.
func (s RouteSpec) Equal(o RouteSpec) bool {
	return s.Direct == o.Direct && slices.Equal(s.Choices, o.Choices)
}

// Equal reports whether two specs route alike.
func (s AppRouteSpec) Equal(o AppRouteSpec) bool {
	return s.Mode == o.Mode && slices.Equal(s.DCs, o.DCs)
}
