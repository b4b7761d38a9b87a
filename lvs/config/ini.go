package config

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// Option is one raw key's value with its position.
type Option struct {
	Value string
	Pos   conf.Pos
}

// Section is an INI section: keys in file order with their options.
type Section struct {
	Name string
	Pos  conf.Pos
	Keys []string
	Opts map[string]Option
	// fromDefault marks keys inherited from [DEFAULT].
	fromDefault map[string]bool
	// broken marks keys whose value could not be interpolated (already
	// reported): they read as absent but are not reported missing.
	broken map[string]bool
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
// interpolated. Every problem is recorded in errs; the lines of a bad or
// duplicate section header, or before any header, are skipped, so that
// one mistake is reported once, not once per line after it.
func parseINI(file string, r io.Reader, errs *conf.List) []*Section {
	p := &iniParser{defaults: &Section{Name: "DEFAULT", Opts: map[string]Option{}}, errs: errs}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		p.line(conf.At(file, line), sc.Text())
	}
	if err := sc.Err(); err != nil {
		errs.Add(&conf.Error{Pos: conf.Pos{File: file}, Reason: err.Error(), Err: err})
	}
	p.inherit()
	return p.sections
}

// iniParser is parseINI's state between lines.
type iniParser struct {
	sections []*Section
	defaults *Section
	cur      *Section // nil before the first header; discard after a bad one
	lastKey  string
	errs     *conf.List
}

// discard names the section that takes the options of a bad or duplicate
// header, so they are neither applied nor reported again.
const discard = "\x00discard"

func (p *iniParser) line(pos conf.Pos, raw string) {
	trimmed := strings.TrimSpace(raw)
	if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' || strings.HasPrefix(strings.ToLower(trimmed), "rem ") {
		return
	}
	if (raw[0] == ' ' || raw[0] == '\t') && p.cur != nil && p.lastKey != "" {
		o := p.cur.Opts[p.lastKey]
		o.Value += "\n" + trimmed
		p.cur.Opts[p.lastKey] = o
		return
	}
	if trimmed[0] == '[' {
		p.header(pos, trimmed)
		return
	}
	if p.cur == nil {
		p.errs.Addf(pos, "", "option outside any [section]")
		p.cur = &Section{Name: discard, Opts: map[string]Option{}}
	}
	sep := strings.IndexAny(trimmed, "=:")
	if sep <= 0 {
		p.errs.Addf(pos, "", "expected 'key = value', got %q", trimmed)
		p.lastKey = ""
		return
	}
	key := strings.ToLower(strings.TrimSpace(trimmed[:sep]))
	val := strings.TrimSpace(trimmed[sep+1:])
	if i := strings.Index(val, " ;"); i >= 0 {
		val = strings.TrimSpace(val[:i])
	} else if i := strings.Index(val, "\t;"); i >= 0 {
		val = strings.TrimSpace(val[:i])
	}
	if first, dup := p.cur.Opts[key]; dup {
		if p.cur.Name != discard {
			p.errs.Addf(pos, key, "duplicate key in [%s] (first at line %d)", p.cur.Name, first.Pos.Line)
		}
		p.lastKey = ""
		return
	}
	p.cur.Keys = append(p.cur.Keys, key)
	p.cur.Opts[key] = Option{Value: val, Pos: pos}
	p.lastKey = key
}

func (p *iniParser) header(pos conf.Pos, trimmed string) {
	p.lastKey = ""
	p.cur = &Section{Name: discard, Opts: map[string]Option{}}
	end := strings.IndexByte(trimmed, ']')
	if end < 0 {
		p.errs.Addf(pos, "", "section header without ']'")
		return
	}
	name := strings.TrimSpace(trimmed[1:end])
	switch {
	case name == "":
		p.errs.Addf(pos, "", "empty section name")
	case name == "DEFAULT":
		p.cur = p.defaults
	default:
		for _, s := range p.sections {
			if s.Name == name {
				p.errs.Addf(pos, "", "duplicate section [%s] (first at line %d)", name, s.Pos.Line)
				return
			}
		}
		p.cur = &Section{Name: name, Pos: pos, Opts: map[string]Option{}}
		p.sections = append(p.sections, p.cur)
	}
}

// inherit gives every section the [DEFAULT] keys it lacks and interpolates
// every value.
func (p *iniParser) inherit() {
	for _, s := range p.sections {
		for _, k := range p.defaults.Keys {
			if _, ok := s.Opts[k]; !ok {
				s.Keys = append(s.Keys, k)
				s.Opts[k] = p.defaults.Opts[k]
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
				if s.broken == nil {
					s.broken = map[string]bool{}
				}
				s.broken[k] = true
				p.errs.Addf(o.Pos, k, "%v", err)
				continue
			}
			o.Value = v
			s.Opts[k] = o
		}
	}
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
