package config

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Pos is where a value came from.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Error is a configuration error naming file, line and key.
type Error struct {
	Pos    Pos
	Key    string
	Reason string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.Pos, e.Key, e.Reason)
}

// Errorf builds an *Error for key at p.
func (p Pos) Errorf(key, format string, args ...any) error {
	return &Error{Pos: p, Key: key, Reason: fmt.Sprintf(format, args...)}
}

// Option is one raw key's value with its position.
type Option struct {
	Value string
	Pos   Pos
}

// Section is an INI section: keys in file order with their options.
type Section struct {
	Name string
	Pos  Pos
	Keys []string
	Opts map[string]Option
	// fromDefault marks keys inherited from [DEFAULT].
	fromDefault map[string]bool
}

// Get returns a key's option.
func (s *Section) Get(key string) (Option, bool) {
	o, ok := s.Opts[key]
	return o, ok
}

// parseINI reads INI text the way Python's SafeConfigParser does: keys are
// lower-cased, "=" or ":" separate key and value, whole-line comments start
// with "#" or ";", " ;" starts an inline comment, indented lines continue
// the previous value, [DEFAULT] keys apply to every section and %(key)s is
// interpolated.
func parseINI(file string, r io.Reader) ([]*Section, error) {
	var (
		sections []*Section
		defaults = &Section{Name: "DEFAULT", Opts: map[string]Option{}}
		cur      *Section
		lastKey  string
		line     int
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line++
		raw := sc.Text()
		pos := Pos{File: file, Line: line}
		trimmed := strings.TrimSpace(raw)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' || strings.HasPrefix(strings.ToLower(trimmed), "rem ") {
			continue
		}
		if (raw[0] == ' ' || raw[0] == '\t') && cur != nil && lastKey != "" {
			o := cur.Opts[lastKey]
			o.Value += "\n" + trimmed
			cur.Opts[lastKey] = o
			continue
		}
		if trimmed[0] == '[' {
			end := strings.IndexByte(trimmed, ']')
			if end < 0 {
				return nil, pos.Errorf("", "section header without ']'")
			}
			name := strings.TrimSpace(trimmed[1:end])
			if name == "" {
				return nil, pos.Errorf("", "empty section name")
			}
			if name == "DEFAULT" {
				cur = defaults
			} else {
				for _, s := range sections {
					if s.Name == name {
						return nil, pos.Errorf("", "duplicate section [%s] (first at line %d)", name, s.Pos.Line)
					}
				}
				cur = &Section{Name: name, Pos: pos, Opts: map[string]Option{}}
				sections = append(sections, cur)
			}
			lastKey = ""
			continue
		}
		if cur == nil {
			return nil, pos.Errorf("", "option outside any [section]")
		}
		sep := strings.IndexAny(trimmed, "=:")
		if sep <= 0 {
			return nil, pos.Errorf("", "expected 'key = value', got %q", trimmed)
		}
		key := strings.ToLower(strings.TrimSpace(trimmed[:sep]))
		val := strings.TrimSpace(trimmed[sep+1:])
		if i := strings.Index(val, " ;"); i >= 0 {
			val = strings.TrimSpace(val[:i])
		} else if i := strings.Index(val, "\t;"); i >= 0 {
			val = strings.TrimSpace(val[:i])
		}
		if _, dup := cur.Opts[key]; dup {
			return nil, pos.Errorf(key, "duplicate key in [%s] (first at line %d)", cur.Name, cur.Opts[key].Pos.Line)
		}
		cur.Keys = append(cur.Keys, key)
		cur.Opts[key] = Option{Value: val, Pos: pos}
		lastKey = key
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for _, s := range sections {
		for _, k := range defaults.Keys {
			if _, ok := s.Opts[k]; !ok {
				s.Keys = append(s.Keys, k)
				s.Opts[k] = defaults.Opts[k]
				if s.fromDefault == nil {
					s.fromDefault = map[string]bool{}
				}
				s.fromDefault[k] = true
			}
		}
		for _, k := range s.Keys {
			o := s.Opts[k]
			v, err := interpolate(s, k, o.Value, 0)
			if err != nil {
				return nil, o.Pos.Errorf(k, "%v", err)
			}
			o.Value = v
			s.Opts[k] = o
		}
	}
	return sections, nil
}

// interpolate expands %(key)s from the section (which includes defaults)
// and "%%" to "%", with a depth bound against reference loops.
func interpolate(s *Section, key, v string, depth int) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	if depth > 10 {
		return "", fmt.Errorf("interpolation deeper than 10 (loop?)")
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 < len(v) && v[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if i+1 < len(v) && v[i+1] == '(' {
			end := strings.Index(v[i:], ")s")
			if end < 0 {
				return "", fmt.Errorf("bad interpolation syntax in %q", v)
			}
			ref := strings.ToLower(v[i+2 : i+end])
			o, ok := s.Opts[ref]
			if !ok {
				return "", fmt.Errorf("interpolation references unknown key %q", ref)
			}
			sub, err := interpolate(s, ref, o.Value, depth+1)
			if err != nil {
				return "", err
			}
			b.WriteString(sub)
			i += end + 1
			continue
		}
		return "", fmt.Errorf("'%%' must be followed by '%%' or '(name)s' in %q", v)
	}
	return b.String(), nil
}
