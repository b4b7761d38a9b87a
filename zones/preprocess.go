package zones

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/miekg/dns"
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
	raw    [][]byte // the bytes read, by ID, for the digest
	errs   []error
	// warnings are the zone's data warnings (see builder.warnf).
	warnings []string
}

func (s *source) errorf(id, line int, format string, args ...any) {
	s.errs = append(s.errs, fmt.Errorf("%s:%d: "+format, append([]any{s.files[id], line}, args...)...))
}

// addFile registers a file to be read with origin at its start.
func (s *source) addFile(path, origin string) int {
	s.files = append(s.files, path)
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

func (f *fileScan) directive(toks []token) ([]token, error) {
	switch d := strings.ToUpper(toks[0].s); d {
	case "$TTL":
		return toks, nil
	case "$ORIGIN":
		if len(toks) != 2 {
			return nil, fmt.Errorf("$ORIGIN needs one name")
		}
		o, err := f.absName(toks[1].s)
		if err != nil {
			return nil, fmt.Errorf("$ORIGIN: %w", err)
		}
		f.origin = o
		return []token{{s: "$ORIGIN"}, {s: o}}, nil
	case "$INCLUDE":
		return f.include(toks)
	case "$GENERATE", "$ADDR_LIMIT_V4", "$ADDR_LIMIT_V6":
		return nil, fmt.Errorf("%s is not supported (gdnsd 3 refuses it too)", d)
	default:
		return nil, fmt.Errorf("unknown directive %s (only $TTL, $ORIGIN and $INCLUDE)", toks[0].s)
	}
}

// include resolves `$INCLUDE file [origin]`: the file relative to the
// including file's directory, and confined to the zones directory; the
// origin qualified against the current one and inside the zone.
func (f *fileScan) include(toks []token) ([]token, error) {
	if len(toks) < 2 || len(toks) > 3 {
		return nil, fmt.Errorf("$INCLUDE needs a file name and an optional origin")
	}
	name, err := unescape(toks[1])
	if err != nil {
		return nil, fmt.Errorf("$INCLUDE %s: %w", toks[1].s, err)
	}
	origin := f.origin
	if len(toks) == 3 {
		if origin, err = f.absName(toks[2].s); err != nil {
			return nil, fmt.Errorf("$INCLUDE origin: %w", err)
		}
		if !nameWithin(origin, f.src.zone) {
			return nil, fmt.Errorf("$INCLUDE origin %s is outside zone %s", origin, f.src.zone)
		}
	}
	path, err := f.includePath(name)
	if err != nil {
		return nil, fmt.Errorf("$INCLUDE %s: %w", name, err)
	}
	id := f.src.addFile(path, origin)
	return []token{{s: "$INCLUDE"}, {s: includePrefix + strconv.Itoa(id)}, {s: origin}}, nil
}

func (f *fileScan) includePath(name string) (string, error) {
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(f.src.files[f.id]), p)
	}
	rel, err := filepath.Rel(f.src.dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("outside the zones directory %s", f.src.dir)
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if strings.HasPrefix(part, ".") {
			return "", fmt.Errorf("dotfiles are not allowed")
		}
	}
	return p, nil
}

// record rewrites one record line: @Z/@F in the owner and in name rdata,
// and a DYNA/DYNC `MAX[/MIN]` TTL. It reports whether the line still
// starts without an owner.
func (f *fileScan) record(toks []token, blankStart bool) ([]token, bool, error) {
	i := 0
	if blankStart && !f.owned {
		// The first record of a file without an owner belongs to the origin.
		toks = append([]token{{s: f.origin}}, toks...)
		blankStart = false
	}
	if !blankStart {
		s, err := f.subst(toks[0].s)
		if err != nil {
			return nil, false, err
		}
		toks[0].s = s
		i = 1
		f.owned = true
	}
	typeAt := -1
	for j := i; j < len(toks) && j < i+3; j++ {
		if isTypeToken(toks[j].s) {
			typeAt = j
			break
		}
	}
	if typeAt < 0 {
		return toks, blankStart, nil // the parser reports it
	}
	typ := strings.ToUpper(toks[typeAt].s)
	text := textTypes[typ] || (typeAt+1 < len(toks) && toks[typeAt+1].s == `\#`)
	if typ == "DYNA" || typ == "DYNC" {
		toks, err := f.dynTTL(toks, i, typeAt)
		return toks, blankStart, err
	}
	f.textCont = text
	return toks, blankStart, f.rdata(toks[typeAt+1:], text)
}

// textTypes are the types whose rdata holds no domain name, where @Z is
// text.
var textTypes = map[string]bool{"TXT": true, "SPF": true, "HINFO": true, "CAA": true}

func isTypeToken(s string) bool {
	u := strings.ToUpper(s)
	if _, ok := dns.StringToType[u]; ok {
		return true
	}
	if rest, ok := strings.CutPrefix(u, "TYPE"); ok {
		_, err := strconv.ParseUint(rest, 10, 16)
		return err == nil
	}
	return false
}

func (f *fileScan) rdata(toks []token, text bool) error {
	if text {
		return nil
	}
	for k := range toks {
		if toks[k].quoted {
			continue
		}
		s, err := f.subst(toks[k].s)
		if err != nil {
			return err
		}
		toks[k].s = s
	}
	return nil
}

// dynTTL rewrites a DYNA/DYNC TTL field `MAX[/MIN]` (gdnsd units) to MAX
// in seconds, appending MIN to the rdata when it is given and not 0.
func (f *fileScan) dynTTL(toks []token, from, typeAt int) ([]token, error) {
	for j := from; j < typeAt; j++ {
		t := toks[j].s
		if t == "" || t[0] < '0' || t[0] > '9' {
			continue // the class
		}
		maxS, minS, slash := strings.Cut(t, "/")
		maxTTL, err := parseGdnsdTTL(maxS)
		if err == nil && slash {
			var minTTL uint32
			if minTTL, err = parseGdnsdTTL(minS); err == nil && minTTL > 0 {
				toks = append(toks, token{s: minTTLMarker + strconv.FormatUint(uint64(minTTL), 10)})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s TTL %q: %w", strings.ToUpper(toks[typeAt].s), t, err)
		}
		toks[j].s = strconv.FormatUint(uint64(maxTTL), 10)
	}
	return toks, nil
}

// parseGdnsdTTL reads gdnsd's TTL: digits with an optional single unit
// m, h, d or w (any case).
func parseGdnsdTTL(s string) (uint32, error) {
	mult := uint64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'm', 'M':
			mult = 60
		case 'h', 'H':
			mult = 3600
		case 'd', 'D':
			mult = 86400
		case 'w', 'W':
			mult = 604800
		}
		if mult > 1 {
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || s[0] == '+' || n*mult > 1<<32-1 {
		return 0, fmt.Errorf("not a TTL (digits with one optional unit m, h, d or w)")
	}
	return uint32(n * mult), nil
}

// subst replaces a final `@Z` or `@F` label of a name by the zone name or
// the file's starting origin; any other `@X` final label is refused.
func (f *fileScan) subst(name string) (string, error) {
	if strings.HasSuffix(name, ".") && !strings.HasSuffix(name, `\.`) {
		return name, nil // absolute
	}
	label, prefix := name, ""
	if i := lastDot(name); i >= 0 {
		label, prefix = name[i+1:], name[:i+1]
	}
	if len(label) < 2 || label[0] != '@' {
		return name, nil
	}
	var abs string
	switch strings.ToUpper(label) {
	case "@Z":
		abs = f.src.zone
	case "@F":
		abs = f.src.starts[f.id]
	default:
		return "", fmt.Errorf("%q: %s is not a name (only @Z and @F)", name, label)
	}
	if prefix == "" || abs == "." {
		if prefix == "" {
			return abs, nil
		}
		return prefix, nil
	}
	return prefix + abs, nil
}

// lastDot is the index of the last unescaped '.' of name, or -1.
func lastDot(name string) int {
	last := -1
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++
		case '.':
			last = i
		}
	}
	return last
}

// absName resolves a $ORIGIN or $INCLUDE origin to an absolute name.
func (f *fileScan) absName(name string) (string, error) {
	if name == "@" {
		return f.origin, nil
	}
	s, err := f.subst(name)
	if err != nil {
		return "", err
	}
	if s != name || (strings.HasSuffix(s, ".") && !strings.HasSuffix(s, `\.`)) {
		return s, nil
	}
	if f.origin == "." {
		return s + ".", nil
	}
	return s + "." + f.origin, nil
}

// nameWithin reports whether the presentation name child is at or below
// parent.
func nameWithin(child, parent string) bool {
	c, err1 := wireName(child)
	p, err2 := wireName(parent)
	return err1 == nil && err2 == nil && isSubdomain(lowerWire(c), lowerWire(p))
}

// unescape decodes a $INCLUDE file name: quotes removed, `\X` gives X and
// `\DDD` the byte DDD.
func unescape(t token) (string, error) {
	s := t.s
	if t.quoted {
		if len(s) < 2 || s[len(s)-1] != '"' {
			return "", fmt.Errorf("unterminated quote")
		}
		s = s[1 : len(s)-1]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch {
		case i >= len(s):
			return "", fmt.Errorf("trailing backslash")
		case s[i] >= '0' && s[i] <= '9':
			if i+3 > len(s) {
				return "", fmt.Errorf("bad escape")
			}
			n, err := strconv.ParseUint(s[i:i+3], 10, 8)
			if err != nil {
				return "", fmt.Errorf("bad escape \\%s", s[i:i+3])
			}
			b.WriteByte(byte(n))
			i += 2
		default:
			b.WriteByte(s[i])
		}
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("empty file name")
	}
	return b.String(), nil
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

// includeFS serves the files registered by $INCLUDE lines to the parser,
// each preprocessed with its own file ID so errors name the included file.
type includeFS struct{ src *source }

func (f includeFS) Open(name string) (fs.File, error) {
	id, err := strconv.Atoi(strings.TrimPrefix(name, includePrefix))
	if err != nil || !strings.HasPrefix(name, includePrefix) || id <= 0 || id >= len(f.src.files) {
		return nil, fmt.Errorf("not an include registered by the loader")
	}
	data, err := os.ReadFile(f.src.files[id])
	if err != nil {
		return nil, err
	}
	f.src.raw[id] = data
	return &memFile{Reader: bytes.NewReader(f.src.preprocess(id, data)), name: name}, nil
}

type memFile struct {
	*bytes.Reader
	name string
}

func (m *memFile) Stat() (fs.FileInfo, error) {
	return nil, fmt.Errorf("stat %s: not supported", m.name)
}
func (m *memFile) Close() error { return nil }
