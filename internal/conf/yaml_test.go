package conf

import (
	"errors"
	"strings"
	"testing"
)

// Every syntax error is reported at the problem's own line, the one a
// reader would fix: for a bracket left open, the bracket's.
func TestDecodeYAMLErrorLines(t *testing.T) {
	const four = "sites:\n  eqiad: {coords: [1,2]}\n  codfw: {coords: [1,2]}\n"
	tests := []struct {
		name, doc, want string
	}{
		{"list left open on the first line", "listen: [\"127.0.0.1:0\"\ndata: data\n", "f.yaml:1: YAML syntax: ',' or ']' must be specified"},
		{"list left open further down", "a: 1\nb: 2\nc: [1, 2\nd: 4\n", "f.yaml:3: YAML syntax: ',' or ']' must be specified"},
		{"list left open at the end", "sites: [\n", "f.yaml:1: YAML syntax: sequence end token ']' not found"},
		{"mapping left open", "a: 1\nb: 2\nc: {x: 1\n", "f.yaml:3: YAML syntax: could not find flow mapping end token '}'"},
		{"brace left open on line 4", four + "  ulsfo: {coords: [1,2]\nclusters:\n", "f.yaml:4: YAML syntax: ',' or '}' must be specified"},
		{"sequence entry in a mapping", "a: 1\nb: 2\n- c\n", "f.yaml:3: YAML syntax: non-map value is specified"},
		{"bad indentation", "a:\n  b: 1\n c: 2\n", "f.yaml:3: YAML syntax: value is not allowed in this context"},
		{"mapping in a sequence", "- a\nb: 1\n", "f.yaml:2: YAML syntax: value is not allowed in this context"},
		{"reserved character", "a: 1\nb: 2\nc: @x\n", "f.yaml:3: YAML syntax: '@' is a reserved character"},
		{"tab indentation", "sites:\n\teqiad: x\n", `f.yaml:2: YAML syntax: found character '\t' that cannot start any token`},
		{"quote left open", "a: 1\n\n\nkey: 'unterminated\n", "f.yaml:4: YAML syntax: could not find end character of single-quoted text"},
		{"key indented under a plain value", "listen: [x]\ndata: data\n udp_sockets: 1\n", "f.yaml:3: YAML syntax: mapping value is not allowed in this context"},
		{"mapping value on the first line", "a: b: c\n", "f.yaml:1: YAML syntax: mapping value is not allowed in this context"},
		{"control character", four + "  x: \x01\n", "f.yaml:4: YAML syntax: control characters are not allowed"},
		{"lone carriage return", four + "  x: 1\r  y: 2\n", "f.yaml:4: YAML syntax: a carriage return without a line feed (save the file with Unix or DOS line ends)"},
		{"DOS line ends are fine past an error", "a: 1\r\nb: [\r\n", "f.yaml:2: YAML syntax: "},
		{"DOS line end after a comment", "#\r\na: [\r\n", "f.yaml:2: YAML syntax: "},
		{"invalid UTF-8", "a: 1\nb: \xff\n", "f.yaml:2: YAML syntax: invalid UTF-8"},
		{"unknown anchor", "a: 1\nb: *nope\n", `f.yaml:2: YAML: unknown anchor "nope" referenced`},
		{"second document", "---\na: {}\n---\nb: 1\n", "f.yaml:3: a second YAML document (`---`) is not allowed"},
		{"syntax error in a second document", "a: 1\n---\nb: [\n", "f.yaml:3: YAML syntax: sequence end token ']' not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeYAML("f.yaml", []byte(tc.doc))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got  %v\nwant %s", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Pos.File != "f.yaml" || e.Pos.Line == 0 {
				t.Fatalf("not a located *Error: %#v", err)
			}
		})
	}
}

func TestDecodeYAMLEmpty(t *testing.T) {
	for _, doc := range []string{"", "\n", "# only a comment\n", "---\n"} {
		n, err := DecodeYAML("f.yaml", []byte(doc))
		if n != nil || err != nil {
			t.Errorf("%q: %+v, %v; want no document", doc, n, err)
		}
	}
}

func TestDecodeYAMLNodes(t *testing.T) {
	src := "# head\nbase: &b {x: 1}\ncopy: *b\nnothing:\ntilde: ~\nquoted: \"null\"\nlist:\n  - a\n  - 2\n"
	root, err := DecodeYAML("f.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if root.Get("copy") != root.Get("base") {
		t.Error("alias not followed to its anchor")
	}
	for _, k := range []string{"nothing", "tilde"} {
		if v := root.Get(k); v.Kind != NullNode || v.Pos.Line == 0 {
			t.Errorf("%s: %+v, want a located null", k, v)
		}
	}
	if v := root.Get("quoted"); v.Kind != ScalarNode || v.Value != "null" {
		t.Errorf("quoted: %+v, want the string null", v)
	}
	list := root.Get("list")
	if list.Kind != SequenceNode || len(list.Content) != 2 || list.Content[1].Value != "2" || list.Content[1].Pos.Line != 9 {
		t.Errorf("list: %+v", list)
	}
	if k := root.Key("base"); k.Pos != (Pos{File: "f.yaml", Line: 2, Col: 1}) || !strings.Contains(k.Comment, "head") {
		t.Errorf("base key: %+v", k)
	}
}

// Aliases are followed but the expansion is bounded: a small file must
// not expand to billions of nodes.
func TestDecodeYAMLAliasBomb(t *testing.T) {
	src := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		src += n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = n
	}
	_, err := DecodeYAML("f.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Fatalf("err = %v", err)
	}
}

func TestWalkerRules(t *testing.T) {
	src := "a: 1\nb: 3\na: 4\nc: 5\n"
	root, err := DecodeYAML("f.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	// The parser refuses complex keys itself; a reader given a tree made
	// otherwise still refuses them.
	list := &Node{Kind: SequenceNode, Pos: Pos{File: "f.yaml", Line: 2}}
	root.Content = append(root.Content[:2], append([]*Node{list, list}, root.Content[2:]...)...)
	var l List
	var got []string
	l.Fields(root, "top", []string{"a", "b"}, func(key string, _, _ *Node) { got = append(got, key) })
	want := "f.yaml:2: top: keys must be plain names, not a list\n" +
		"f.yaml:3: top.a: duplicate key (first at line 1)\n" +
		"f.yaml:4: top.c: unknown key (expected a or b)"
	if err := l.Err(); err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	if strings.Join(got, ",") != "a,b" {
		t.Errorf("walked %v", got)
	}
	var fl List
	m, _ := DecodeYAML("f.yaml", []byte("EU: 1\neu: 2\n"))
	fl.PairsFold(m, "map", func(string, *Node, *Node) {})
	if err := fl.Err(); err == nil || err.Error() != "f.yaml:2: map.eu: duplicate key (first at line 1)" {
		t.Errorf("fold: %v", err)
	}
}
