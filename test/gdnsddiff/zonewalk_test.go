package gdnsddiffe2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// zoneRecord is one record of a zone file as written: enough to know
// which names exist and what kind of data each holds.
type zoneRecord struct {
	owner string // absolute, lower case
	rtype string // upper case: A, DYNA, NS...
	rdata []string
}

// zoneInfo is one served zone: its name and the records of its file and
// of every file it $INCLUDEs.
type zoneInfo struct {
	name    string // absolute, lower case
	records []zoneRecord
}

// walkZones reads every zone file of dir (gdnsd's layout: one file per
// zone named after it, subdirectories and dotfiles are not zones).
func walkZones(dir string) ([]*zoneInfo, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var zones []*zoneInfo
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := strings.ToLower(strings.ReplaceAll(e.Name(), "@", "/")) + "."
		z := &zoneInfo{name: name}
		w := &zoneWalker{zone: name}
		if err := w.file(filepath.Join(dir, e.Name()), name, 0); err != nil {
			return nil, err
		}
		z.records = w.records
		zones = append(zones, z)
	}
	sort.Slice(zones, func(i, j int) bool { return zones[i].name < zones[j].name })
	return zones, nil
}

// zoneWalker reads gdnsd zone files: $ORIGIN, $INCLUDE (relative to the
// including file, with an optional origin), $TTL, parentheses, comments,
// quoted strings, and @, @Z and @F in names. It keeps owners and types;
// it validates nothing (gdnsd checkconf does).
type zoneWalker struct {
	zone    string
	records []zoneRecord
}

func (w *zoneWalker) file(path, origin string, depth int) error {
	if depth > 10 {
		return fmt.Errorf("%s: $INCLUDE nested too deep", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fileOrigin, owner := origin, origin
	lines := logicalLines(string(data))
	for _, ln := range lines {
		toks := ln.tokens
		if len(toks) == 0 {
			continue
		}
		switch strings.ToUpper(toks[0]) {
		case "$TTL":
			continue
		case "$ORIGIN":
			if len(toks) > 1 {
				origin = w.absName(toks[1], origin, fileOrigin)
			}
			continue
		case "$INCLUDE":
			if len(toks) < 2 {
				return fmt.Errorf("%s:%d: $INCLUDE without a file", path, ln.line)
			}
			inc := toks[1]
			if !filepath.IsAbs(inc) {
				inc = filepath.Join(filepath.Dir(path), inc)
			}
			incOrigin := origin
			if len(toks) > 2 {
				incOrigin = w.absName(toks[2], origin, fileOrigin)
			}
			if err := w.file(inc, incOrigin, depth+1); err != nil {
				return fmt.Errorf("%s:%d: %w", path, ln.line, err)
			}
			continue
		}
		i := 0
		if !ln.indented {
			owner = w.absName(toks[0], origin, fileOrigin)
			i = 1
		}
		// [ttl] [class] type, in either order of ttl and class.
		for ; i < len(toks); i++ {
			u := strings.ToUpper(toks[i])
			if u == "IN" || u == "CH" || u == "HS" || (u[0] >= '0' && u[0] <= '9') {
				continue
			}
			break
		}
		if i >= len(toks) {
			return fmt.Errorf("%s:%d: no record type", path, ln.line)
		}
		w.records = append(w.records, zoneRecord{owner: owner, rtype: strings.ToUpper(toks[i]), rdata: toks[i+1:]})
	}
	return nil
}

// absName makes a zone-file name absolute and lower case.
func (w *zoneWalker) absName(n, origin, fileOrigin string) string {
	switch {
	case n == "@":
		return origin
	case n == "@Z" || n == "@z":
		return w.zone
	case n == "@F" || n == "@f":
		return fileOrigin
	case strings.HasSuffix(n, ".@Z") || strings.HasSuffix(n, ".@z"):
		return strings.ToLower(n[:len(n)-2]) + w.zone
	case strings.HasSuffix(n, ".@F") || strings.HasSuffix(n, ".@f"):
		return strings.ToLower(n[:len(n)-2]) + fileOrigin
	case strings.HasSuffix(n, "."):
		return strings.ToLower(n)
	}
	return strings.ToLower(n) + "." + origin
}

// logicalLine is one record or directive, parentheses joined.
type logicalLine struct {
	line     int
	indented bool // starts with blank: the owner is the previous one
	tokens   []string
}

// logicalLines splits zone text into logical lines of tokens, dropping
// comments and joining lines inside parentheses. Quoted strings are one
// token, quotes removed.
func logicalLines(text string) []logicalLine {
	var out []logicalLine
	var cur *logicalLine
	depth, lineNo := 0, 1
	atStart := true
	var tok strings.Builder
	inTok, inQuote := false, false
	flush := func() {
		if inTok {
			cur.tokens = append(cur.tokens, tok.String())
			tok.Reset()
			inTok = false
		}
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if cur == nil {
			cur = &logicalLine{line: lineNo, indented: atStart && (c == ' ' || c == '\t')}
		}
		atStart = false
		switch {
		case inQuote:
			if c == '\\' && i+1 < len(text) {
				tok.WriteByte(c)
				i++
				tok.WriteByte(text[i])
			} else if c == '"' {
				inQuote = false
			} else {
				if c == '\n' {
					lineNo++
				}
				tok.WriteByte(c)
			}
		case c == '"':
			inQuote, inTok = true, true
		case c == ';':
			for i < len(text) && text[i] != '\n' {
				i++
			}
			i--
		case c == '(':
			flush()
			depth++
		case c == ')':
			flush()
			depth--
		case c == '\n':
			flush()
			lineNo++
			if depth <= 0 {
				if len(cur.tokens) > 0 {
					out = append(out, *cur)
				}
				cur, atStart = nil, true
			}
		case c == ' ' || c == '\t' || c == '\r':
			flush()
		default:
			inTok = true
			tok.WriteByte(c)
		}
	}
	if cur != nil {
		flush()
		if len(cur.tokens) > 0 {
			out = append(out, *cur)
		}
	}
	return out
}
