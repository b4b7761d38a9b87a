package conftool

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/geotraffic/geotraffic/routing"
)

// Assignment is one K=V of confctl's `set/K=V:K=V`.
type Assignment struct{ Field, Value string }

// ParseAssignments parses "K=V:K=V". Values are text; a route's value may
// hold JSON (`route=["codfw","eqiad"]`), so ':' inside brackets or braces
// does not split.
func ParseAssignments(s string) ([]Assignment, error) {
	var out []Assignment
	for _, part := range splitTop(s, ':') {
		f, v, ok := strings.Cut(part, "=")
		if !ok || f == "" {
			return nil, fmt.Errorf("set/%s: %q is not FIELD=VALUE", s, part)
		}
		out = append(out, Assignment{Field: f, Value: v})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("set/%s: nothing to set", s)
	}
	return out, nil
}

// splitTop splits s at sep outside [] and {}.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// Apply sets fields of old (nil for a new object, which starts from the
// kind's default) and returns the new value in canonical JSON, checked as
// Validate checks it. Unknown fields and values of the wrong type are
// refused; nothing is guessed.
func Apply(k Kind, old []byte, assigns []Assignment) ([]byte, error) {
	fields := map[string]any{}
	var oldErr error
	switch {
	case old == nil:
		fields = defaults(k)
	default:
		err := json.Unmarshal(old, &fields)
		if err == nil && fields == nil { // the value was null
			err = errors.New("null is not a JSON object")
		}
		if err != nil {
			// A garbage value is replaced only when every field is set.
			oldErr, fields = err, map[string]any{}
		}
	}
	for _, a := range assigns {
		v, err := fieldValue(k, a)
		if err != nil {
			return nil, err
		}
		fields[a.Field] = v
	}
	data, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	if err := Validate(k, data); err != nil {
		if oldErr != nil {
			return nil, fmt.Errorf("current value does not parse (%v), set every field (%s) to replace it: %w",
				oldErr, strings.Join(fieldNames(k), ", "), err)
		}
		return nil, err
	}
	return Canonical(k, data)
}

// defaults is the value of a new object before any field is set.
func defaults(k Kind) map[string]any {
	switch k {
	case Node:
		return map[string]any{"weight": 0, "pooled": "inactive"}
	case Site:
		return map[string]any{"state": "up"}
	}
	return map[string]any{}
}

// fieldValue converts the text of one assignment to the field's JSON type.
func fieldValue(k Kind, a Assignment) (any, error) {
	bad := func(want string) error {
		return fmt.Errorf("%s field %s: %q is not %s", k, a.Field, a.Value, want)
	}
	switch {
	case k == Node && a.Field == "weight", k == AdminState && a.Field == "ttl":
		n, err := strconv.ParseUint(a.Value, 10, 32)
		if err != nil {
			return nil, bad("a whole number")
		}
		return n, nil
	case k == Node && a.Field == "pooled", k == Site && a.Field == "state", k == AdminState && a.Field == "state":
		return a.Value, nil
	case (k == Route || k == AppRoute) && a.Field == "route":
		return routeField(a.Value)
	}
	return nil, fmt.Errorf("%s has no field %q (fields: %s)", k, a.Field, strings.Join(fieldNames(k), ", "))
}

// routeField reads a route as JSON when it looks like JSON, else as one
// name or a comma-separated ordered list (`route=codfw,eqiad`).
func routeField(s string) (any, error) {
	if strings.HasPrefix(s, "[") || strings.HasPrefix(s, "{") || strings.HasPrefix(s, `"`) {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("route %s: %w", s, err)
		}
		return v, nil
	}
	if strings.Contains(s, ",") {
		return strings.Split(s, ","), nil
	}
	return s, nil
}

func fieldNames(k Kind) []string {
	switch k {
	case Node:
		return []string{"weight", "pooled"}
	case Site:
		return []string{"state"}
	case AdminState:
		return []string{"state", "ttl"}
	}
	return []string{"route"}
}

// Validate checks a value of kind k. Routes are read by package routing's
// own parsers, in routing.yaml's forms; whether their sites exist is a
// question for a whole routing (routing.Config.WithOverrides).
func Validate(k Kind, data []byte) error {
	var err error
	switch k {
	case Node:
		_, err = ParseNode(data)
	case Site:
		_, err = ParseSite(data)
	case AdminState:
		_, err = ParseAdminState(data)
	case Route:
		_, err = routing.ParseRouteValue(data)
	case AppRoute:
		_, err = routing.ParseAppRouteValue(data)
	default:
		err = fmt.Errorf("unknown object type %q", k)
	}
	return err
}

// Canonical re-encodes a valid value the way confctl writes it: known
// fields only, states in their canonical case, keys sorted.
func Canonical(k Kind, data []byte) ([]byte, error) {
	var v any
	switch k {
	case Node:
		n, err := ParseNode(data)
		if err != nil {
			return nil, err
		}
		v = n
	case Site:
		s, err := ParseSite(data)
		if err != nil {
			return nil, err
		}
		v = s
	case AdminState:
		a, err := ParseAdminState(data)
		if err != nil {
			return nil, err
		}
		v = a
	case Route:
		r, err := routing.ParseRouteValue(data)
		if err != nil {
			return nil, err
		}
		return r.Value(), nil
	case AppRoute:
		a, err := routing.ParseAppRouteValue(data)
		if err != nil {
			return nil, err
		}
		return a.Value(), nil
	default:
		return nil, fmt.Errorf("unknown object type %q", k)
	}
	return json.Marshal(v)
}
