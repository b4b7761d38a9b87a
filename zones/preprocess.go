package zones

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
)

// miekg/dns's ZoneParser reports syntax errors with line numbers but does
// not tell which line a parsed record came from, and it cannot read gdnsd's
// `MAX/MIN` TTL on DYNA/DYNC lines. preprocess fixes both without changing
// line numbers: it moves `/MIN` into the rdata, and appends a comment marker
// `;@@FILE:LINE` to every line with content, which the parser hands back
// through Comment() for the record that line starts.

const lineMarker = ";@@"

var ttlSlash = regexp.MustCompile(`^([0-9]+)/([0-9]+)$`)

func preprocess(fileID int, src []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(src) + len(src)/8)
	lines := bytes.Split(src, []byte("\n"))
	for i, raw := range lines {
		line := strings.TrimRight(string(raw), "\r")
		code, comment := splitComment(line)
		if strings.TrimSpace(code) == "" {
			out.WriteString(line)
		} else {
			out.WriteString(rewriteDynTTL(code))
			out.WriteString(" " + lineMarker + strconv.Itoa(fileID) + ":" + strconv.Itoa(i+1) + " ")
			if comment != "" {
				out.WriteString(comment[1:]) // keep the operator's comment text
			}
		}
		if i < len(lines)-1 {
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// splitComment splits at the first ';' outside double quotes.
func splitComment(line string) (code, comment string) {
	inQuote := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ';':
			if !inQuote {
				return line[:i], line[i:]
			}
		}
	}
	return line, ""
}

func rewriteDynTTL(code string) string {
	fields := strings.Fields(code)
	dynAt := -1
	for i, f := range fields {
		if u := strings.ToUpper(f); u == "DYNA" || u == "DYNC" {
			dynAt = i
			break
		}
	}
	if dynAt < 0 {
		return code
	}
	for i := 0; i < dynAt; i++ {
		if m := ttlSlash.FindStringSubmatch(fields[i]); m != nil {
			fields[i] = m[1]
			fields = append(fields, minTTLMarker+m[2])
			lead := code[:len(code)-len(strings.TrimLeft(code, " \t"))]
			return lead + strings.Join(fields, " ")
		}
	}
	return code
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
	f, l, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, 0, false
	}
	fi, err1 := strconv.Atoi(f)
	li, err2 := strconv.Atoi(l)
	return fi, li, err1 == nil && err2 == nil
}

// includeFS serves $INCLUDE files from the zones directory only, each
// preprocessed with its own file ID so errors name the included file.
type includeFS struct {
	root  fs.FS
	dir   string
	files *[]string // file names by ID, shared with the loader
}

func (f includeFS) Open(name string) (fs.File, error) {
	if strings.HasPrefix(name, ".") {
		return nil, fmt.Errorf("$INCLUDE %s: dotfiles are not allowed", name)
	}
	data, err := fs.ReadFile(f.root, name)
	if err != nil {
		return nil, fmt.Errorf("$INCLUDE %s: %w", name, err)
	}
	*f.files = append(*f.files, f.dir+"/"+name)
	return &memFile{Reader: bytes.NewReader(preprocess(len(*f.files)-1, data)), name: name}, nil
}

type memFile struct {
	*bytes.Reader
	name string
}

func (m *memFile) Stat() (fs.FileInfo, error) {
	return nil, fmt.Errorf("stat %s: not supported", m.name)
}
func (m *memFile) Close() error { return nil }

var _ io.Reader = (*memFile)(nil)
