package vscf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// render writes n back in vscf syntax, every scalar quoted.
func render(n *Node) string {
	var sb strings.Builder
	if n.Kind == Hash {
		for _, p := range n.Pairs {
			renderScalar(&sb, p.Key)
			sb.WriteString(" => ")
			renderTo(&sb, p.Value)
			sb.WriteByte('\n')
		}
		return sb.String()
	}
	renderTo(&sb, n)
	return sb.String()
}

func renderTo(sb *strings.Builder, n *Node) {
	switch n.Kind {
	case Scalar:
		renderScalar(sb, n.Value)
	case Array:
		sb.WriteString("[ ")
		for _, it := range n.Items {
			renderTo(sb, it)
			sb.WriteString(", ")
		}
		sb.WriteByte(']')
	case Hash:
		sb.WriteString("{ ")
		for _, p := range n.Pairs {
			renderScalar(sb, p.Key)
			sb.WriteString(" = ")
			renderTo(sb, p.Value)
			sb.WriteByte(' ')
		}
		sb.WriteByte('}')
	}
}

func renderScalar(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			sb.WriteByte('\\')
		}
		sb.WriteByte(s[i])
	}
	sb.WriteByte('"')
}

// FuzzParse: no panic; an error is on a line of the input (or of a file
// it includes); every node has a position; a parsed value renders to text
// that parses to the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "a = 1\n", "a => [b, c,]\n", "[a {b = c}]", "a = { b = { c = [ d ] } }", "a = \"x\\\"\\065\"\n",
		"a = b#c\n", "a;x\n=>b\n", "a = 1 # no newline", ",a=1", "a=1,,b=2", "x = 1 x = 2", "a = $include{inc}\n",
		"$include{dir}\n", "$include{\"*.conf\"}\n", "a = $include{loop}\n", "a = \\256", "a = \"open", "a = {", "a = [",
		"[a] b", "$x = 1", "a = b\r\n", "a\\\n = 1",
		"options => {\n  listen => [ \"192.0.2.1\" ] # note\n}\nplugins => { geoip => { maps => { m => { datacenters => [a b] } } } }\n",
	} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile("../bench/authdns/gdnsd/config.in"); err == nil {
		f.Add(data)
	}
	dir := f.TempDir()
	for name, content := range map[string]string{
		"inc": "x = 1\n", "dir/a.conf": "y = 2\n", "dir/b.conf": "[z]\n", "loop": "l = $include{loop}\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	file := filepath.Join(dir, "config")
	// Includes read only the files above: an input may name any path,
	// including devices that never end.
	inc := func() *includeState {
		return &includeState{read: func(name string) ([]byte, error) {
			if filepath.Dir(name) != dir && filepath.Dir(name) != filepath.Join(dir, "dir") {
				return nil, errors.New("outside the fuzz directory")
			}
			return os.ReadFile(name)
		}}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parse(file, data, inc())
		if err != nil {
			var e *conf.Error
			if !errors.As(err, &e) || e.Pos.Line < 1 || e.Pos.Col < 1 {
				t.Fatalf("unlocated error: %#v", err)
			}
			if e.Pos.File == file && e.Pos.Line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("error past the last line: %v", err)
			}
			return
		}
		checkPositions(t, n)
		again, err := Parse("rendered", []byte(render(n)))
		if err != nil {
			t.Fatalf("rendered value does not parse: %v\n%s", err, render(n))
		}
		if dump(again) != dump(allQuoted(n)) {
			t.Fatalf("rendered value parses differently:\n%s\n%s", dump(n), dump(again))
		}
	})
}

// allQuoted is n with every scalar marked quoted, as render writes them.
func allQuoted(n *Node) *Node {
	c := *n
	c.Quoted = n.Kind == Scalar
	c.Items = nil
	for _, it := range n.Items {
		c.Items = append(c.Items, allQuoted(it))
	}
	c.Pairs = nil
	for _, p := range n.Pairs {
		q := *p
		q.Value = allQuoted(p.Value)
		c.Pairs = append(c.Pairs, &q)
	}
	return &c
}

func checkPositions(t *testing.T, n *Node) {
	t.Helper()
	if n.Pos.File == "" || n.Pos.Line < 1 || n.Pos.Col < 1 {
		t.Fatalf("node without a position: %+v", n)
	}
	for _, it := range n.Items {
		checkPositions(t, it)
	}
	for _, p := range n.Pairs {
		if p.KeyPos.Line < 1 || p.KeyPos.Col < 1 {
			t.Fatalf("key %q without a position", p.Key)
		}
		checkPositions(t, p.Value)
	}
}
