package zones

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// miekg/dns's ZoneParser reads RFC 1035 text; gdnsd's zone files add to
// it. Every file passes through preprocess first, which keeps line numbers
// and rewrites gdnsd's extensions into what the parser reads:
//   - `@Z` and `@F` become the zone name and the file's starting origin;
//   - $ORIGIN and $INCLUDE origins are written absolute, and $INCLUDE names
//     the file by an ID resolved here (relative to the including file);
//   - a DYNA/DYNC `MAX[/MIN]` TTL becomes MAX, with MIN moved into the rdata;
//   - each line with content gets a comment marker `;@@FILE:LINE`, which the
//     parser hands back through Comment() for the record that line starts.
// Problems found here are collected in the source, and the offending line
// is left blank so parsing goes on and reports later problems too.

const (
	lineMarker    = ";@@"
	includePrefix = "%include-"
)

// source is every file one zone reads: the zone file (ID 0) and each
// $INCLUDE, in the order the parser opens them.
type source struct {
	dir    string   // the zones directory
	zone   string   // the zone name, absolute (@Z)
	files  []string // path by file ID
	starts []string // origin when each file starts (@F), by ID
	parent []int    // the ID of the file that includes each, by ID (-1: none)
	raw    [][]byte // the bytes read, by ID, for the digest
	errs   []error
	// warnings are the zone's data warnings (see builder.warnf).
	warnings []string
}

func (s *source) errorf(id, line int, format string, args ...any) {
	s.errs = append(s.errs, fmt.Errorf("%s:%d: "+format, append([]any{s.files[id], line}, args...)...))
}

// addFile registers a file to be read with origin at its start,
// included by file parent (-1 for the zone file).
func (s *source) addFile(path, origin string, parent int) int {
	s.files = append(s.files, path)
	s.parent = append(s.parent, parent)
	s.starts = append(s.starts, origin)
	s.raw = append(s.raw, nil)
	return len(s.files) - 1
}

// fileScan is the state of one file while it is preprocessed.
type fileScan struct {
	src      *source
	id       int
	origin   string // current $ORIGIN, absolute
	parens   int    // open parentheses: the next line continues a record
	textCont bool   // the continued record's rdata is text (no @Z/@F)
	owned    bool   // a line has named an owner
	// quoteLine, when > 0, is where the record of a quoted string still
	// open at the end of the previous line started.
	quoteLine int
	toks      []token
}

// preprocess rewrites file id; see the comment at the top of this file.
func (s *source) preprocess(id int, data []byte) []byte {
	f := fileScan{src: s, id: id, origin: s.starts[id]}
	var out bytes.Buffer
	out.Grow(len(data) + len(data)/4)
	for n := 1; len(data) > 0; n++ {
		raw := data
		i := bytes.IndexByte(data, '\n')
		if i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		f.line(&out, n, raw)
		if i >= 0 {
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

type token struct {
	s      string
	quoted bool
	open   bool // a quoted string the line ends in
}

// tokenize splits a line into toks (reused; quoted strings kept with
// their quotes, parentheses as their own tokens) and its comment text.
// Tokens are substrings of one copy of the line.
func tokenize(raw []byte, toks []token) ([]token, string) {
	line := string(raw)
	toks = toks[:0]
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == ';':
			return toks, line[i+1:]
		case c == '(' || c == ')':
			toks = append(toks, token{s: line[i : i+1]})
			i++
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			open := j >= len(line)
			j = min(j+1, len(line))
			toks = append(toks, token{s: line[i:j], quoted: true, open: open})
			i = j
		default:
			j := i
			for j < len(line) && !strings.ContainsRune(" \t;()\"", rune(line[j])) {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(line))
			toks = append(toks, token{s: line[i:j]})
			i = j
		}
	}
	return toks, ""
}

func (f *fileScan) errorf(line int, format string, args ...any) {
	f.src.errorf(f.id, line, format, args...)
}

func (f *fileScan) line(out *bytes.Buffer, n int, raw []byte) {
	if len(raw) > 0 && raw[len(raw)-1] == '\r' {
		f.errorf(n, "line ends in CR: zone files need Unix (LF) line endings, as in gdnsd")
		return
	}
	mark, cont, text := n, f.parens > 0, f.textCont
	if f.quoteLine > 0 { // inside a quoted string a previous line opened
		end := closingQuote(raw)
		if end < 0 {
			out.Write(raw)
			return
		}
		out.Write(raw[:end+1])
		raw = raw[end+1:]
		mark, f.quoteLine, cont, text = f.quoteLine, 0, true, true
	}
	toks, comment := tokenize(raw, f.toks)
	f.toks = toks
	if len(toks) == 0 {
		if cont {
			out.WriteString(" " + lineMarker + strconv.Itoa(f.id) + ":" + strconv.Itoa(mark) + " " + comment)
		} else {
			out.Write(raw)
		}
		return
	}
	depth := f.parens
	for _, t := range toks {
		switch t.s {
		case "(":
			depth++
		case ")":
			if depth--; depth < 0 {
				f.errorf(n, "unbalanced )")
				return
			}
		}
	}
	blankStart := raw[0] == ' ' || raw[0] == '\t'
	var err error
	switch {
	case cont:
		err = f.rdata(toks, text)
	case !blankStart && strings.HasPrefix(toks[0].s, "$"):
		toks, err = f.directive(toks)
	default:
		toks, blankStart, err = f.record(toks, blankStart)
	}
	if err != nil {
		f.errorf(n, "%v", err)
		return
	}
	if blankStart || cont {
		out.WriteByte(' ')
	}
	for i, t := range toks {
		if i > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(t.s)
	}
	f.parens = depth
	if toks[len(toks)-1].open {
		// The string goes on over the next lines; the marker goes
		// after it ends, naming this line.
		f.quoteLine = mark
		return
	}
	out.WriteString(" " + lineMarker + strconv.Itoa(f.id) + ":" + strconv.Itoa(mark) + " ")
	out.WriteString(comment) // keep the operator's comment text
}

// closingQuote is the index of the first unescaped '"' in raw, or -1.
func closingQuote(raw []byte) int {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// markerFrom extracts (fileID, line) from a record's Comment().
func markerFrom(comment string) (int, int, bool) {
	i := strings.Index(comment, lineMarker)
	if i < 0 {
		return 0, 0, false
	}
	rest := comment[i+len(lineMarker):]
	end := strings.IndexAny(rest, " \t")
	if end >= 0 {
		rest = rest[:end]
	}
	fi, l, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, 0, false
	}
	id, err1 := strconv.Atoi(fi)
	li, err2 := strconv.Atoi(l)
	return id, li, err1 == nil && err2 == nil
}
