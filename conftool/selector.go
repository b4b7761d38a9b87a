package conftool

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// Selector is conftool's `select 'TAG=REGEX,...'`: every named tag must
// match its regex, anchored at both ends as conftool anchors them.
type Selector struct {
	kind    Kind
	text    string
	matches []tagMatch
}

type tagMatch struct {
	tag   int
	name  string
	regex *regexp.Regexp
	// literal is the one string the regex matches, when it matches one.
	literal   string
	isLiteral bool
}

// ParseSelector parses a selection for kind k. An empty selection matches
// every object of the kind.
func ParseSelector(k Kind, s string) (Selector, error) {
	sel := Selector{kind: k, text: s}
	if strings.TrimSpace(s) == "" {
		return sel, nil
	}
	names := k.Tags()
	for _, part := range strings.Split(s, ",") {
		name, expr, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return sel, fmt.Errorf("selector %q: %q is not TAG=REGEX", s, part)
		}
		i := slices.Index(names, name)
		if i < 0 {
			return sel, fmt.Errorf("selector %q: %s has no tag %q (tags: %s)", s, k, name, strings.Join(names, ", "))
		}
		// expr must stand alone, or "a)|(b" would undo the anchoring.
		if _, err := regexp.Compile(expr); err != nil {
			return sel, fmt.Errorf("selector %q: tag %s: %w", s, name, err)
		}
		re, err := regexp.Compile("^(?:" + expr + ")$")
		if err != nil {
			return sel, fmt.Errorf("selector %q: tag %s: %w", s, name, err)
		}
		m := tagMatch{tag: i, name: name, regex: re}
		m.literal, m.isLiteral = literal(expr)
		sel.matches = append(sel.matches, m)
	}
	return sel, nil
}

// Match reports whether o is of the selector's kind and every tag matches.
func (s Selector) Match(o Object) bool {
	if o.Kind != s.kind || len(o.Tags) != len(s.kind.Tags()) {
		return false
	}
	for _, m := range s.matches {
		if !m.regex.MatchString(o.Tags[m.tag]) {
			return false
		}
	}
	return true
}

// String is the selection as given.
func (s Selector) String() string { return s.text }

// Kind is the kind the selector selects.
func (s Selector) Kind() Kind { return s.kind }

// Exact returns the tag values, in key order, when the selection names
// every tag of its kind once with a regex that matches exactly one string
// (a plain name, metacharacters escaped: `key=geoip/www-res/\*`). Only
// such a selection may create an object that does not exist yet: a
// pattern never creates anything.
func (s Selector) Exact() ([]string, bool) {
	names := s.kind.Tags()
	if len(s.matches) != len(names) {
		return nil, false
	}
	tags := make([]string, len(names))
	seen := make([]bool, len(names))
	for _, m := range s.matches {
		if !m.isLiteral || seen[m.tag] {
			return nil, false
		}
		tags[m.tag], seen[m.tag] = m.literal, true
	}
	return tags, true
}

// literal reports the one string expr matches, if it matches exactly one
// (case-sensitively).
func literal(expr string) (string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	if re.Op != syntax.OpLiteral || re.Flags&syntax.FoldCase != 0 {
		return "", false
	}
	return string(re.Rune), true
}
