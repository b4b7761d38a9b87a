// Package pylit parses the Python literals found in pybal.conf values and
// PyBal's legacy pool files — strings, numbers, booleans, None, lists,
// tuples and dicts — without evaluating anything, so a hostile or broken
// value can only produce a parse error.
package pylit

import (
	"fmt"
	"strconv"
	"strings"
)

// Value is a parsed literal: string, int64, float64, bool, nil ([None]),
// []Value (list or tuple) or *Dict.
type Value any

// Dict is an ordered Python dict with string, number or bool keys kept as
// parsed values.
type Dict struct {
	Keys   []Value
	Values []Value
}

// Get returns the value of a string key.
func (d *Dict) Get(key string) (Value, bool) {
	for i, k := range d.Keys {
		if s, ok := k.(string); ok && s == key {
			return d.Values[i], true
		}
	}
	return nil, false
}

// Name is a bare dotted identifier allowed by ParseNames, e.g.
// server.host in RunCommand's arguments.
type Name string

// Parse parses exactly one literal; trailing text other than whitespace
// and '#' comments is an error.
func Parse(s string) (Value, error) { return ParseNames(s, nil) }

// ParseNames is Parse that also accepts the given bare identifiers
// (returned as Name values for the caller to substitute).
func ParseNames(s string, names []string) (Value, error) {
	p := &parser{s: s, names: names}
	p.skip()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.rest(), p.i)
	}
	return v, nil
}

// StringList parses a list (or tuple) literal of strings. A bare string
// literal is accepted as a one-element list, as PyBal configs sometimes have.
func StringList(s string) ([]string, error) {
	v, err := Parse(s)
	if err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case string:
		return []string{t}, nil
	case []Value:
		out := make([]string, 0, len(t))
		for i, e := range t {
			str, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d is %s, not a string", i, TypeName(e))
			}
			out = append(out, str)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a list of strings, got %s", TypeName(v))
}

// TypeName names a value's Python type for error messages.
func TypeName(v Value) string {
	switch v.(type) {
	case string:
		return "str"
	case int64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case nil:
		return "None"
	case []Value:
		return "list"
	case *Dict:
		return "dict"
	case Name:
		return "name"
	}
	return fmt.Sprintf("%T", v)
}

const maxDepth = 32 // nesting bound so a hostile value cannot exhaust the stack

type parser struct {
	s     string
	i     int
	names []string
}

func (p *parser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

// skip passes whitespace and comments: as in Python source, '#' outside a
// string starts a comment that runs to the end of the line, so a pool line
// or a pybal.conf value may end with "# note" (ast.literal_eval and eval
// accept it).
func (p *parser) skip() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				p.i++
			}
		case strings.IndexByte(" \t\r\n", c) >= 0:
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (Value, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nesting deeper than %d", maxDepth)
	}
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("unexpected end of value")
	}
	switch c := p.s[p.i]; {
	case c == '\'' || c == '"':
		return p.str()
	case c == '[':
		return p.seq(']', depth)
	case c == '(':
		return p.seq(')', depth)
	case c == '{':
		return p.dict(depth)
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		j := p.i
		for j < len(p.s) && (isAlnum(p.s[j]) || p.s[j] == '_' || p.s[j] == '.') {
			j++
		}
		word := p.s[p.i:j]
		for _, n := range p.names {
			if word == n {
				p.i = j
				return Name(word), nil
			}
		}
		switch word {
		case "True":
			p.i = j
			return true, nil
		case "False":
			p.i = j
			return false, nil
		case "None":
			p.i = j
			return nil, nil
		}
		return nil, fmt.Errorf("unexpected %q at offset %d (only literals are allowed)", p.rest(), p.i)
	}
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *parser) str() (Value, error) {
	q := p.s[p.i]
	start := p.i
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\n':
			return nil, fmt.Errorf("newline in string starting at offset %d", start)
		case c == '\\' && p.i+1 < len(p.s):
			p.i++
			switch e := p.s[p.i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '\\', '\'', '"':
				b.WriteByte(e)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
		p.i++
	}
	return nil, fmt.Errorf("unterminated string starting at offset %d", start)
}

func (p *parser) number() (Value, error) {
	j := p.i
	for j < len(p.s) && strings.IndexByte("+-.0123456789eExXabcdefABCDEF_", p.s[j]) >= 0 {
		j++
	}
	tok := p.s[p.i:j]
	if n, err := strconv.ParseInt(tok, 0, 64); err == nil {
		p.i = j
		return n, nil
	}
	if f, err := strconv.ParseFloat(tok, 64); err == nil && !strings.ContainsAny(tok, "xX_") {
		p.i = j
		return f, nil
	}
	return nil, fmt.Errorf("bad number %q at offset %d", tok, p.i)
}

func (p *parser) seq(end byte, depth int) (Value, error) {
	p.i++
	out := []Value{}
	for {
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return out, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return out, nil
		}
		return nil, fmt.Errorf("expected ',' or %q at offset %d", end, p.i)
	}
}

func (p *parser) dict(depth int) (Value, error) {
	p.i++
	d := &Dict{}
	for {
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return d, nil
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, ok := k.([]Value); ok {
			return nil, fmt.Errorf("unhashable list as dict key")
		}
		if _, ok := k.(*Dict); ok {
			return nil, fmt.Errorf("unhashable dict as dict key")
		}
		p.skip()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, fmt.Errorf("expected ':' at offset %d", p.i)
		}
		p.i++
		p.skip()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		// Python keeps the last duplicate key.
		replaced := false
		for i, ek := range d.Keys {
			if ek == k {
				d.Values[i], replaced = v, true
			}
		}
		if !replaced {
			d.Keys = append(d.Keys, k)
			d.Values = append(d.Values, v)
		}
		p.skip()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return d, nil
		}
		return nil, fmt.Errorf("expected ',' or '}' at offset %d", p.i)
	}
}
