package vscf

import (
	"strconv"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// parser builds the Nodes of one file; included files get their own
// parser sharing inc.
type parser struct {
	scanner
	inc     *includeState
	depth   int // nesting of containers and includes, across files
	endLine int // the line where the last value parsed ends
}

func newParser(file string, data []byte, inc *includeState) *parser {
	return &parser{scanner: scanner{file: file, data: data, line: 1, col: 1}, inc: inc}
}

// hashBuilder collects a hash's pairs and finds duplicate keys.
type hashBuilder struct {
	node *Node
	seen map[string]*Pair
}

func newHash(pos conf.Pos) *hashBuilder {
	return &hashBuilder{node: &Node{Kind: Hash, Pos: pos}, seen: map[string]*Pair{}}
}

// add appends pair; via describes an $include that brought it, for the
// error message.
func (h *hashBuilder) add(pair *Pair, via string) error {
	if first, dup := h.seen[pair.Key]; dup {
		where := "line " + strconv.Itoa(first.KeyPos.Line)
		if first.KeyPos.File != pair.KeyPos.File {
			where = first.KeyPos.String()
		}
		return pair.KeyPos.Errorf("", "duplicate key %s (first at %s%s; expected each key once in a hash)",
			strconv.QuoteToASCII(pair.Key), where, via)
	}
	h.seen[pair.Key] = pair
	h.node.Pairs = append(h.node.Pairs, pair)
	return nil
}

// parseFile parses the whole input: one explicit array, or an implicit hash.
func (p *parser) parseFile() (*Node, error) {
	if err := p.skip(); err != nil {
		return nil, err
	}
	if !p.eof() && p.peek() == '[' {
		lead := p.takeComments()
		n, err := p.parseArray()
		if err != nil {
			return nil, err
		}
		n.Comments = texts(lead)
		if err := p.skip(); err != nil {
			return nil, err
		}
		if !p.eof() {
			return nil, p.errorf(p.at(), "expected the end of the file after the top-level array, found %s", p.found())
		}
		n.EndComments = append(n.EndComments, texts(p.takeComments())...)
		return n, nil
	}
	h := newHash(conf.Pos{File: p.file, Line: 1, Col: 1})
	if err := p.hashBody(h, conf.Pos{}); err != nil {
		return nil, err
	}
	return h.node, nil
}

// enter counts one level of nesting at pos.
func (p *parser) enter(pos conf.Pos) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf(pos, "nesting deeper than %d arrays, hashes and includes (expected at most %d)", MaxDepth, MaxDepth)
	}
	return nil
}

// hashBody parses entries up to the `}` closing the hash opened at open,
// or to the end of the file for the top level (open is zero).
func (p *parser) hashBody(h *hashBuilder, open conf.Pos) error {
	top := open.Line == 0
	for {
		if err := p.skip(); err != nil {
			return err
		}
		if p.eof() {
			if !top {
				return p.errorf(open, "hash never closed (expected \"}\" before the end of the file)")
			}
			h.node.EndComments = texts(p.takeComments())
			return nil
		}
		switch c := p.peek(); {
		case c == '}' && !top:
			p.next()
			h.node.EndComments = texts(p.takeComments())
			return nil
		case c == '$':
			if err := p.mergeInclude(h); err != nil {
				return err
			}
		case startsScalar(c):
			if err := p.pair(h); err != nil {
				return err
			}
		default:
			want := `a key, $include{...} or "}"`
			if top {
				want = `a key or $include{...}`
			}
			if c == ',' {
				want += " (at most one comma after each entry)"
			}
			return p.errorf(p.at(), "expected %s, found %s", want, p.found())
		}
	}
}

// pair parses `key = value` (or `=>`) and the separator after it.
func (p *parser) pair(h *hashBuilder) error {
	lead := p.takeComments()
	k, _, err := p.scalar()
	if err != nil {
		return err
	}
	pair := &Pair{Key: k.Value, KeyPos: k.Pos}
	if err := p.skip(); err != nil {
		return err
	}
	if p.eof() || p.peek() != '=' {
		return p.errorf(p.at(), "expected \"=\" or \"=>\" after key %s, found %s", strconv.QuoteToASCII(k.Value), p.found())
	}
	p.next()
	if !p.eof() && p.peek() == '>' {
		p.next()
	}
	if err := p.skip(); err != nil {
		return err
	}
	pair.Comments = texts(append(lead, p.takeComments()...))
	v, err := p.value("key " + strconv.QuoteToASCII(k.Value))
	if err != nil {
		return err
	}
	valueEnd := p.endLine
	line, err := p.afterEntry()
	if err != nil || v == nil { // nil: $include of an empty directory, gdnsd drops the key
		return err
	}
	pair.Value = v
	if valueEnd == k.Pos.Line {
		pair.LineComment = line
	} else {
		v.LineComment = line
	}
	return h.add(pair, "")
}

// afterEntry passes whitespace, comments and at most one comma after a
// value ending on line endLine; it returns the comment on that line and
// keeps the others for the next entry.
func (p *parser) afterEntry() (string, error) {
	end := p.endLine
	err := p.skip()
	if err == nil && !p.eof() && p.peek() == ',' {
		p.next()
		err = p.skip()
	}
	var line string
	rest := p.comment[:0]
	for _, c := range p.comment {
		if !c.full && c.line == end && line == "" {
			line = c.text
			continue
		}
		rest = append(rest, c)
	}
	p.comment = rest
	return line, err
}

// value parses a value after what (for the error message). It is nil for
// an $include of an empty directory.
func (p *parser) value(what string) (*Node, error) {
	if p.eof() {
		return nil, p.errorf(p.at(), "expected a value (a scalar, \"[\", \"{\" or $include{...}) after %s, found the end of the file", what)
	}
	switch c := p.peek(); {
	case c == '[':
		return p.parseArray()
	case c == '{':
		return p.parseHash()
	case c == '$':
		return p.valueInclude()
	case startsScalar(c):
		n, _, err := p.scalar()
		p.endLine = p.line
		return n, err
	default:
		return nil, p.errorf(p.at(), "expected a value (a scalar, \"[\", \"{\" or $include{...}) after %s, found %s", what, p.found())
	}
}

func (p *parser) parseHash() (*Node, error) {
	open := p.pos()
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.next()
	h := newHash(open)
	if err := p.hashBody(h, open); err != nil {
		return nil, err
	}
	p.depth--
	p.endLine = p.line
	return h.node, nil
}

func (p *parser) parseArray() (*Node, error) {
	open := p.pos()
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.next()
	n := &Node{Kind: Array, Pos: open}
	for {
		if err := p.skip(); err != nil {
			return nil, err
		}
		if p.eof() {
			return nil, p.errorf(open, "array never closed (expected \"]\" before the end of the file)")
		}
		if p.peek() == ']' {
			p.next()
			n.EndComments = texts(p.takeComments())
			p.depth--
			p.endLine = p.line
			return n, nil
		}
		if p.peek() == ',' {
			return nil, p.errorf(p.pos(), "expected a value or \"]\", found \",\" (at most one comma after each item)")
		}
		lead := p.takeComments()
		item, err := p.value("\"[\" or an item")
		if err != nil {
			return nil, err
		}
		line, err := p.afterEntry()
		if err != nil {
			return nil, err
		}
		if item != nil {
			item.Comments = texts(lead)
			item.LineComment = line
			n.Items = append(n.Items, item)
		}
	}
}

// texts is the text of comments.
func texts(cs []comment) []string {
	if len(cs) == 0 {
		return nil
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.text
	}
	return out
}
