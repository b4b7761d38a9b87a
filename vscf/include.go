package vscf

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// includeState is shared by the parsers of one Parse: the chain of files
// being read, to refuse include loops.
type includeState struct {
	chain  []frame
	read   func(string) ([]byte, error) // os.ReadFile; tests confine it
	forbid bool                         // ParseNoInclude
}

type frame struct {
	abs  string
	info os.FileInfo // nil for data not read from a file
}

var includeOpen = []byte("$include{")

// directive parses `$include{path}` at the current offset and returns
// the path as written (gdnsd does not unescape it).
func (p *parser) directive() (string, error) {
	if !bytes.HasPrefix(p.data[p.off:], includeOpen) {
		return "", p.errorf(p.pos(), "expected $include{...}: \"$\" starts only $include{ (quote a scalar that begins with \"$\")")
	}
	if p.inc.forbid {
		return "", p.errorf(p.pos(), "$include is not allowed in this file, which is read on its own (expected key = value entries)")
	}
	for range includeOpen {
		p.next()
	}
	if err := p.skip(); err != nil {
		return "", err
	}
	if p.eof() || !startsScalar(p.peek()) {
		return "", p.errorf(p.at(), "expected a file name in $include{...}, found %s", p.found())
	}
	_, raw, err := p.scalar()
	if err != nil {
		return "", err
	}
	if err := p.skip(); err != nil {
		return "", err
	}
	if p.eof() || p.peek() != '}' {
		return "", p.errorf(p.at(), "expected \"}\" after the file name of $include{%s, found %s", raw, p.found())
	}
	p.next()
	return raw, nil
}

// valueInclude parses an $include in value context: the one file it
// names is the value; nil for an empty directory, as gdnsd.
func (p *parser) valueInclude() (*Node, error) {
	at := p.pos()
	raw, err := p.directive()
	if err != nil {
		return nil, err
	}
	files, err := p.resolve(raw, at)
	if err != nil {
		return nil, err
	}
	p.endLine = p.line
	switch len(files) {
	case 0:
		return nil, nil
	case 1:
		return p.included(files[0], raw, at)
	default:
		return nil, at.Errorf("", "$include{%s} matches %d files (%s); a value takes exactly one (expected one file)",
			raw, len(files), strings.Join(files, ", "))
	}
}

// mergeInclude parses an $include where a key would go: every file it
// matches must be a hash, merged into h in file order.
func (p *parser) mergeInclude(h *hashBuilder) error {
	at := p.pos()
	lead := p.takeComments()
	raw, err := p.directive()
	if err != nil {
		return err
	}
	files, err := p.resolve(raw, at)
	if err != nil {
		return err
	}
	p.endLine = p.line
	if line, err := p.afterEntry(); err != nil {
		return err
	} else if line != "" {
		lead = append(lead, comment{text: line, full: true})
	}
	via := ", merged by $include{" + raw + "} at " + at.String()
	for _, f := range files {
		n, err := p.included(f, raw, at)
		if err != nil {
			return err
		}
		if n.Kind != Hash {
			return at.Errorf("", "$include{%s}: %s holds %s, which cannot be merged into a hash (expected a file of key = value entries)",
				raw, f, n.Kind)
		}
		for _, pair := range n.Pairs {
			if lead != nil {
				pair.Comments = append(texts(lead), pair.Comments...)
				lead = nil
			}
			if err := h.add(pair, via); err != nil {
				return err
			}
		}
	}
	p.comment = append(lead, p.comment...) // nothing merged: keep them for what follows
	return nil
}

// resolve finds the files an $include{raw} at at names, as gdnsd: relative
// to the directory of the including file; a directory is dir/* and may be
// empty; anything else is a glob that must match.
func (p *parser) resolve(raw string, at conf.Pos) ([]string, error) {
	path := raw
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(p.file), path)
	}
	pattern, dir := posixGlob(path), false
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		pattern, dir = filepath.Join(escapeGlob(path), "*"), true
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, at.Errorf("", "$include{%s}: bad glob pattern %s (expected a file, a directory or a POSIX glob)", raw, path)
	}
	files := matches[:0]
	for _, m := range matches {
		if !hiddenMatch(pattern, m) {
			files = append(files, m)
		}
	}
	if len(files) == 0 && !dir {
		// glob(3) with GLOB_NOCHECK gives gdnsd the pattern itself, which
		// it then opens: a file literally named so is read.
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			return []string{path}, nil
		}
		return nil, at.Errorf("", "$include{%s}: no file matches %s (expected an existing file, a directory or a glob matching at least one file)", raw, path)
	}
	return files, nil
}

// included parses file for the $include{raw} at at.
func (p *parser) included(file, raw string, at conf.Pos) (*Node, error) {
	info, err := os.Stat(file)
	if err == nil && info.IsDir() {
		return nil, at.Errorf("", "$include{%s}: %s is a directory (expected the glob to match files only)", raw, file)
	}
	// A device or a pipe could block or never end.
	if err == nil && !info.Mode().IsRegular() {
		return nil, at.Errorf("", "$include{%s}: %s is not a regular file (expected a file)", raw, file)
	}
	abs, _ := filepath.Abs(file)
	for i, f := range p.inc.chain {
		if f.abs == abs || (f.info != nil && info != nil && os.SameFile(f.info, info)) {
			names := make([]string, 0, len(p.inc.chain)-i+1)
			for _, g := range p.inc.chain[i:] {
				names = append(names, g.abs)
			}
			return nil, at.Errorf("", "$include{%s}: include loop %s -> %s (expected no file to include itself)",
				raw, strings.Join(names, " -> "), abs)
		}
	}
	read := p.inc.read
	if read == nil {
		read = os.ReadFile
	}
	data, err := read(file)
	if err != nil {
		return nil, &conf.Error{Pos: at, Reason: "$include{" + raw + "}: " + err.Error(), Err: err}
	}
	if err := p.enter(at); err != nil {
		return nil, err
	}
	sub := newParser(file, data, p.inc)
	sub.depth = p.depth
	p.inc.chain = append(p.inc.chain, frame{abs: abs, info: info})
	n, err := sub.parseFile()
	p.inc.chain = p.inc.chain[:len(p.inc.chain)-1]
	p.depth--
	return n, err
}

// hiddenMatch reports whether glob match m has a name starting with "."
// where the pattern's element does not: POSIX glob's `*` and `?` skip
// dotfiles, Go's do not.
func hiddenMatch(pattern, m string) bool {
	pe := strings.Split(pattern, string(filepath.Separator))
	me := strings.Split(m, string(filepath.Separator))
	if len(pe) != len(me) {
		return false
	}
	for i := range me {
		if strings.HasPrefix(me[i], ".") && !strings.HasPrefix(pe[i], ".") {
			return true
		}
	}
	return false
}

// posixGlob turns POSIX's negated class `[!...]` into Go's `[^...]`.
func posixGlob(pattern string) string {
	b := []byte(pattern)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\\':
			i++
		case b[i] == '[' && i+1 < len(b) && b[i+1] == '!':
			b[i+1] = '^'
		}
	}
	return string(b)
}

// escapeGlob quotes the glob metacharacters of a literal path.
func escapeGlob(path string) string {
	var sb strings.Builder
	for _, r := range path {
		if strings.ContainsRune(`*?[]\`, r) {
			sb.WriteByte('\\')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
