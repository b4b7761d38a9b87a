package vscf

import (
	"fmt"
	"strconv"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// scanner walks the bytes of one file, tracking line and column.
type scanner struct {
	file    string
	data    []byte
	off     int
	line    int
	col     int
	comment []comment // comments skipped since the parser last took them
	tokEnd  conf.Pos  // where the last skip started: the end of the last token
}

// comment is one `#` or `;` comment.
type comment struct {
	text string // marker to end of line, without the LF
	line int
	full bool // nothing but whitespace before it on its line
}

func (s *scanner) eof() bool  { return s.off >= len(s.data) }
func (s *scanner) peek() byte { return s.data[s.off] }

func (s *scanner) pos() conf.Pos { return conf.Pos{File: s.file, Line: s.line, Col: s.col} }

func (s *scanner) next() byte {
	c := s.data[s.off]
	s.off++
	if c == '\n' {
		s.line++
		s.col = 1
	} else {
		s.col++
	}
	return c
}

func (s *scanner) errorf(p conf.Pos, format string, args ...any) *conf.Error {
	return &conf.Error{Pos: p, Reason: fmt.Sprintf(format, args...)}
}

// found describes the byte at the current offset for an error message.
func (s *scanner) found() string {
	if s.eof() {
		return "the end of the file"
	}
	return strconv.QuoteToASCII(string(s.data[s.off : s.off+1]))
}

// at is where a problem with what comes next is reported: the current
// position, or at the end of the file the end of the last token rather
// than a line past everything written.
func (s *scanner) at() conf.Pos {
	if s.eof() && s.tokEnd.Line > 0 {
		return s.tokEnd
	}
	return s.pos()
}

// skip passes whitespace and comments, collecting the comments.
func (s *scanner) skip() error {
	s.tokEnd = s.pos()
	for !s.eof() {
		switch c := s.peek(); c {
		case ' ', '\t', '\n':
			s.next()
		case '#', ';':
			if err := s.skipComment(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

func (s *scanner) skipComment() error {
	start, p := s.off, s.pos()
	full := true
	for i := start - 1; i >= 0 && s.data[i] != '\n'; i-- {
		if s.data[i] != ' ' && s.data[i] != '\t' {
			full = false
			break
		}
	}
	for !s.eof() && s.peek() != '\n' {
		s.next()
	}
	if s.eof() {
		return s.errorf(p, "a comment on the last line needs a newline after it (expected a line feed before the end of the file)")
	}
	s.comment = append(s.comment, comment{text: string(s.data[start:s.off]), line: p.Line, full: full})
	s.next()
	return nil
}

// takeComments returns and forgets the collected comments.
func (s *scanner) takeComments() []comment {
	c := s.comment
	s.comment = nil
	return c
}

// unquotedByte reports whether c may appear literally in an unquoted
// scalar. CR may: gdnsd does not treat it as whitespace.
func unquotedByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '{', '}', '[', ']', ';', '#', ',', '"', '=', '\\':
		return false
	}
	return true
}

// startsScalar reports whether c can begin a scalar ('$' is for $include).
func startsScalar(c byte) bool {
	return c == '"' || c == '\\' || (c != '$' && unquotedByte(c))
}

// scalar reads a quoted or unquoted scalar at the current offset, which
// startsScalar accepted. raw is the text as written, inside the quotes.
func (s *scanner) scalar() (n *Node, raw string, err error) {
	n = &Node{Kind: Scalar, Pos: s.pos()}
	var val []byte
	if s.peek() == '"' {
		n.Quoted = true
		s.next()
		start := s.off
		for {
			if s.eof() {
				return nil, "", s.errorf(n.Pos, "quoted string never closed (expected a closing '\"' before the end of the file)")
			}
			switch c := s.peek(); c {
			case '"':
				raw = string(s.data[start:s.off])
				s.next()
				n.Value = string(val)
				return n, raw, nil
			case '\\':
				b, err := s.escape()
				if err != nil {
					return nil, "", err
				}
				val = append(val, b)
			default:
				val = append(val, s.next())
			}
		}
	}
	start := s.off
	for !s.eof() {
		c := s.peek()
		if c == '\\' {
			b, err := s.escape()
			if err != nil {
				return nil, "", err
			}
			val = append(val, b)
			continue
		}
		if !unquotedByte(c) {
			break
		}
		val = append(val, s.next())
	}
	n.Value = string(val)
	return n, string(s.data[start:s.off]), nil
}

// escape reads `\X` or `\DDD` and returns the byte it stands for.
func (s *scanner) escape() (byte, error) {
	p, start := s.pos(), s.off
	s.next()
	if s.eof() {
		return 0, s.errorf(p, "backslash at the end of the file (expected a byte or three digits 000 to 255 after it)")
	}
	if c := s.peek(); c < '0' || c > '9' {
		return s.next(), nil
	}
	v := 0
	for i := 0; i < 3; i++ {
		if s.eof() || s.peek() < '0' || s.peek() > '9' {
			return 0, s.errorf(p, "bad escape %s (expected three digits 000 to 255 after a backslash, or one non-digit byte)",
				strconv.QuoteToASCII(string(s.data[start:s.off])))
		}
		v = v*10 + int(s.next()-'0')
	}
	if v > 255 {
		return 0, s.errorf(p, "bad escape \\%03d (expected three digits 000 to 255 after a backslash)", v)
	}
	return byte(v), nil
}
