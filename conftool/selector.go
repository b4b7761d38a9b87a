package conftool

import (
	"fmt"
	"regexp"
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
		re, err := regexp.Compile("^(?:" + expr + ")$")
		if err != nil {
			return sel, fmt.Errorf("selector %q: tag %s: %w", s, name, err)
		}
		sel.matches = append(sel.matches, tagMatch{tag: i, name: name, regex: re})
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
