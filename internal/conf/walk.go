package conf

import (
	"math"
	"strconv"
	"strings"
)

// Join is the dotted path of key under path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Pairs walks mapping m, the value at dotted path, in file order, calling
// f with each key's text and its key and value nodes. A key that is not
// a scalar, or repeats an earlier one, is reported to l and skipped.
func (l *List) Pairs(m *Node, path string, f func(key string, k, v *Node)) {
	l.pairs(m, path, false, f)
}

// PairsFold is Pairs for a mapping whose keys are matched ignoring case,
// so "EU" and "eu" are the same key.
func (l *List) PairsFold(m *Node, path string, f func(key string, k, v *Node)) {
	l.pairs(m, path, true, f)
}

func (l *List) pairs(m *Node, path string, fold bool, f func(key string, k, v *Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != ScalarNode {
			l.Addf(k.Pos, path, "keys must be plain names, not %s", k.Describe())
			continue
		}
		id := k.Value
		if fold {
			id = strings.ToLower(id)
		}
		if first, dup := seen[id]; dup {
			l.Addf(k.Pos, Join(path, k.Value), "duplicate key (first at line %d)", first)
			continue
		}
		seen[id] = k.Pos.Line
		f(k.Value, k, v)
	}
}

// Fields is Pairs for a mapping of known keys: a key not in allowed is
// reported as "unknown key (expected a, b or c)" and skipped.
func (l *List) Fields(m *Node, path string, allowed []string, f func(key string, k, v *Node)) {
	l.Pairs(m, path, func(key string, k, v *Node) {
		for _, a := range allowed {
			if a == key {
				f(key, k, v)
				return
			}
		}
		l.Addf(k.Pos, Join(path, key), "unknown key (expected %s)", OneOf(allowed))
	})
}

// OneOf lists names as "a, b or c".
func OneOf(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Mapping reports, unless n is a mapping, that the value at path should
// be one; what describes the mapping expected ("a mapping of map names").
func (l *List) Mapping(n *Node, path, what string) bool {
	if n.Kind == MappingNode {
		return true
	}
	l.Addf(n.Pos, path, "expected %s, found %s", what, n.Describe())
	return false
}

// Key is the key node of key in mapping m, or nil.
func (m *Node) Key(key string) *Node {
	if m == nil || m.Kind != MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == ScalarNode && m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// Get is the value of key in mapping m, or nil.
func (m *Node) Get(key string) *Node {
	if m == nil || m.Kind != MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == ScalarNode && m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// Str is a scalar's text; ok is false for a null, list or mapping.
func (n *Node) Str() (string, bool) {
	if n == nil || n.Kind != ScalarNode {
		return "", false
	}
	return n.Value, true
}

// Bool reads true or false (any case; YAML 1.1's yes/no/on/off too, as
// existing files use them).
func (n *Node) Bool() (b, ok bool) {
	if n == nil || n.Kind != ScalarNode {
		return false, false
	}
	switch strings.ToLower(n.Value) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	return false, false
}

// Int reads a decimal whole number.
func (n *Node) Int() (int, bool) {
	if n == nil || n.Kind != ScalarNode {
		return 0, false
	}
	i, err := strconv.Atoi(n.Value)
	return i, err == nil
}

// Float reads a number, YAML's .nan and .inf included.
func (n *Node) Float() (float64, bool) {
	if n == nil || n.Kind != ScalarNode {
		return 0, false
	}
	switch strings.ToLower(n.Value) {
	case ".nan":
		return math.NaN(), true
	case ".inf", "+.inf":
		return math.Inf(1), true
	case "-.inf":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	return f, err == nil
}
