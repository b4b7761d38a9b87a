package gdnsdimport

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ynode is a YAML value to write: a scalar, a sequence or a mapping, with
// the comments it carries. The writer is ours so the output is
// deterministic, keeps gdnsd's key order and places comments where the
// operator wrote them.
type ynode struct {
	kind  ykind
	value string   // scalar
	typed bool     // a scalar written plain: a number or boolean the reader converts
	items []*yitem // sequence
	pairs []*ypair // mapping
	end   []string // full-line comments after the last entry
}

type ykind uint8

const (
	yScalar ykind = iota
	ySeq
	yMap
)

// yitem is a sequence item with the full-line comments above it and the
// comment after it on its line.
type yitem struct {
	v        *ynode
	comments []string
	line     string
}

// ypair is a mapping entry, with its comments as for yitem.
type ypair struct {
	key      string
	v        *ynode
	comments []string
	line     string
}

func yStr(s string) *ynode { return &ynode{kind: yScalar, value: s} }

// yTyped is a number or boolean, written plain.
func yTyped(s string) *ynode { return &ynode{kind: yScalar, value: s, typed: true} }

func yMapOf() *ynode { return &ynode{kind: yMap} }

func ySeqOf(vals ...string) *ynode {
	n := &ynode{kind: ySeq}
	for _, v := range vals {
		n.items = append(n.items, &yitem{v: yStr(v)})
	}
	return n
}

// add appends key: v to mapping m and returns the new pair.
func (m *ynode) add(key string, v *ynode) *ypair {
	p := &ypair{key: key, v: v}
	m.pairs = append(m.pairs, p)
	return p
}

// flowWidth is the longest line a flow sequence ([a, b]) may take; longer
// ones are written one item a line.
const flowWidth = 100

// encodeYAML renders n (a mapping) as a YAML document, with a header of
// comment lines.
func encodeYAML(header []string, n *ynode) []byte {
	var b strings.Builder
	for _, h := range header {
		b.WriteString(comment(h))
		b.WriteByte('\n')
	}
	if n.kind != yMap || len(n.pairs) == 0 {
		b.WriteString(inline(n))
		b.WriteByte('\n')
		return []byte(b.String())
	}
	writeMap(&b, n, 0, "")
	return []byte(b.String())
}

// writeMap writes mapping m at indent. first, when not "", replaces the
// indentation of the first line (a "- " of the sequence holding m).
func writeMap(b *strings.Builder, m *ynode, indent int, first string) {
	pad := strings.Repeat(" ", indent)
	for i, p := range m.pairs {
		lead := pad
		if i == 0 && first != "" {
			lead = first
		} else {
			writeComments(b, pad, p.comments)
		}
		b.WriteString(lead + scalar(p.key) + ":")
		writeValue(b, p.v, p.line, indent)
	}
	writeComments(b, pad, m.end)
}

// writeValue writes what follows "key:" or "-": the value on the same line
// when it fits there, else on the next lines indented by two more.
func writeValue(b *strings.Builder, v *ynode, line string, indent int) {
	if s, ok := oneLine(v, indent); ok {
		b.WriteString(" " + s + trailing(line) + "\n")
		writeComments(b, strings.Repeat(" ", indent+2), v.end)
		return
	}
	b.WriteString(trailing(line) + "\n")
	if v.kind == yMap {
		writeMap(b, v, indent+2, "")
	} else {
		writeSeq(b, v, indent+2)
	}
}

func writeSeq(b *strings.Builder, s *ynode, indent int) {
	pad := strings.Repeat(" ", indent)
	for _, it := range s.items {
		writeComments(b, pad, it.comments)
		if it.v.kind == yMap && len(it.v.pairs) > 0 && !fits(it.v, indent) {
			// "- key: v" with the rest of the mapping under it; the first
			// key's comments go above the dash.
			if it.line != "" {
				b.WriteString(pad + "-" + trailing(it.line) + "\n")
				writeMap(b, it.v, indent+2, "")
				continue
			}
			writeComments(b, pad, it.v.pairs[0].comments)
			writeMap(b, it.v, indent+2, pad+"- ")
			continue
		}
		b.WriteString(pad + "-")
		writeValue(b, it.v, it.line, indent)
	}
	writeComments(b, pad, s.end)
}

// oneLine renders v on one line when it is a scalar, an empty collection
// or a short collection with no comments inside.
func oneLine(v *ynode, indent int) (string, bool) {
	if v.kind == yScalar || len(v.items)+len(v.pairs) == 0 || fits(v, indent) {
		return inline(v), true
	}
	return "", false
}

// fits tells whether v may be written in flow style: a sequence of
// scalars with no comments, short enough.
func fits(v *ynode, indent int) bool {
	if v.kind != ySeq || len(v.end) > 0 {
		return false
	}
	for _, it := range v.items {
		if it.v.kind != yScalar || len(it.comments) > 0 || it.line != "" {
			return false
		}
	}
	return indent+len(inline(v)) <= flowWidth
}

// inline renders v in flow style.
func inline(v *ynode) string {
	switch v.kind {
	case yScalar:
		if v.typed {
			return v.value
		}
		return scalar(v.value)
	case ySeq:
		parts := make([]string, len(v.items))
		for i, it := range v.items {
			parts[i] = inline(it.v)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	parts := make([]string, len(v.pairs))
	for i, p := range v.pairs {
		parts[i] = scalar(p.key) + ": " + inline(p.v)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func writeComments(b *strings.Builder, pad string, cs []string) {
	for _, c := range cs {
		b.WriteString(pad + comment(c) + "\n")
	}
}

func trailing(c string) string {
	if c == "" {
		return ""
	}
	return " " + comment(c)
}

// comment turns a vscf comment ("# text" or "; text") into one YAML
// comment line. Bytes YAML cannot hold (control characters, invalid
// UTF-8) become spaces or U+FFFD.
func comment(c string) string {
	c = strings.TrimRight(c, " \t")
	if strings.HasPrefix(c, ";") {
		c = "#" + c[1:]
	} else if !strings.HasPrefix(c, "#") {
		c = "# " + c
	}
	c = strings.ToValidUTF8(c, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, c)
}

// plain matches the scalars that are safe unquoted: YAML reads them back
// as the same text whatever the context (key, flow or block value).
var plain = regexp.MustCompile(`^(?:[A-Za-z0-9_]|-[0-9])[A-Za-z0-9_./-]*$`)

// yamlWords are plain scalars YAML 1.1 or 1.2 reads as booleans or null.
var yamlWords = map[string]bool{"true": true, "false": true, "yes": true, "no": true, "on": true,
	"off": true, "y": true, "n": true, "null": true}

// scalar renders s plain when that is safe, else double-quoted with
// escapes.
func scalar(s string) string {
	if plain.MatchString(s) && !yamlWords[strings.ToLower(s)] {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString("\uFFFD") // unreachable: checked before writing
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xfeff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}
