package zones

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// directive rewrites a `$` line: $TTL passes through, $ORIGIN and
// $INCLUDE are resolved here, and the directives gdnsd 3 removed are
// refused.
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
	for a := f.id; a >= 0; a = f.src.parent[a] {
		if f.src.files[a] == path {
			return nil, fmt.Errorf("$INCLUDE %s: includes itself", name)
		}
	}
	id := f.src.addFile(path, origin, f.id)
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
