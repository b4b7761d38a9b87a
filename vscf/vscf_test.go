package vscf

import (
	"strconv"
	"strings"
	"testing"
)

// dump is a compact form of n: {k:v ...}, [v ...], "scalar" (q"..." when
// quoted).
func dump(n *Node) string {
	var sb strings.Builder
	dumpTo(&sb, n)
	return sb.String()
}

func dumpTo(sb *strings.Builder, n *Node) {
	switch n.Kind {
	case Scalar:
		if n.Quoted {
			sb.WriteByte('q')
		}
		sb.WriteString(strconv.Quote(n.Value))
	case Array:
		sb.WriteByte('[')
		for i, it := range n.Items {
			if i > 0 {
				sb.WriteByte(' ')
			}
			dumpTo(sb, it)
		}
		sb.WriteByte(']')
	case Hash:
		sb.WriteByte('{')
		for i, p := range n.Pairs {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(strconv.Quote(p.Key))
			sb.WriteByte(':')
			dumpTo(sb, p.Value)
		}
		sb.WriteByte('}')
	}
}

func TestParseValid(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `{}`},
		{"# only a comment\n", `{}`},
		{"\n\t \n", `{}`},
		{"a = 1", `{"a":"1"}`},
		{"a => 1\n", `{"a":"1"}`},
		{"a=>1 b=2", `{"a":"1" "b":"2"}`},
		{"a=1,b=2,", `{"a":"1" "b":"2"}`},
		{"a = 1 , b = 2 ,\n", `{"a":"1" "b":"2"}`},
		{"a = >b", `{"a":">b"}`},
		{"a =>>b", `{"a":">b"}`},
		{"a = [x y z]", `{"a":["x" "y" "z"]}`},
		{"a = [x, y, z,]", `{"a":["x" "y" "z"]}`},
		{"a = []", `{"a":[]}`},
		{"a = {}", `{"a":{}}`},
		{"a = [ [1 2] {b = c} ]", `{"a":[["1" "2"] {"b":"c"}]}`},
		{"a = { b = { c = [ d ] } }", `{"a":{"b":{"c":["d"]}}}`},
		// comments end unquoted tokens, anywhere whitespace may be
		{"a = b#c\n", `{"a":"b"}`},
		{"a = b;c\n", `{"a":"b"}`},
		{"a ; x\n = ; y\n b\n", `{"a":"b"}`},
		{"a = [ # x\n b ; y\n ]", `{"a":["b"]}`},
		// unquoted: ordinary punctuation, $ inside, CR is part of a token
		{`a = !%/:.*@>'`, `{"a":"!%/:.*@>'"}`},
		{`a = x$y`, `{"a":"x$y"}`},
		{"a = b\r\n", `{"a":"b\r"}`},
		{"a\r = b", `{"a\r":"b"}`},
		{"\xff = \x00\x01", `{"\xff":"\x00\x01"}`},
		// quoted
		{`a = ""`, `{"a":q""}`},
		{`"" = x`, `{"":"x"}`},
		{`a = "x y, {z} [w] # ; ="`, `{"a":q"x y, {z} [w] # ; ="}`},
		{"a = \"line1\nline2\"", `{"a":q"line1\nline2"}`},
		{`a = "$x"`, `{"a":q"$x"}`},
		{`"k k" = v`, `{"k k":"v"}`},
		// escapes, the same in and out of quotes
		{`a = \"`, `{"a":"\""}`},
		{`a = "\""`, `{"a":q"\""}`},
		{`a = \\`, `{"a":"\\"}`},
		{`a = x\ y`, `{"a":"x y"}`},
		{`a = \$x`, `{"a":"$x"}`},
		{`a = \065\066`, `{"a":"AB"}`},
		{`a = "\000\255"`, `{"a":q"\x00\xff"}`},
		{"a = x\\\ny", `{"a":"x\ny"}`},
		{`a = \n`, `{"a":"n"}`},
		{`a\=b = c`, `{"a=b":"c"}`},
		// top-level array
		{"[a b]", `["a" "b"]`},
		{" # c\n [ a, {b = c}, ] # d\n\n", `["a" {"b":"c"}]`},
		{"[]", `[]`},
		// keys are case-sensitive
		{"a = 1 A = 2", `{"a":"1" "A":"2"}`},
	} {
		n, err := Parse("f", []byte(tc.in))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := dump(n); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a", `f:1: expected "=" or "=>" after key "a", found the end of the file`},
		{"a b", `f:1: expected "=" or "=>" after key "a", found "b"`},
		{"a = ", `f:1: expected a value (a scalar, "[", "{" or $include{...}) after key "a", found the end of the file`},
		{"a =\n}", `f:2: expected a value (a scalar, "[", "{" or $include{...}) after key "a", found "}"`},
		{"a = = b", `f:1: expected a value (a scalar, "[", "{" or $include{...}) after key "a", found "="`},
		{"a = 1 # no newline", `f:1: a comment on the last line needs a newline after it (expected a line feed before the end of the file)`},
		{",a = 1", `f:1: expected a key or $include{...} (at most one comma after each entry), found ","`},
		{"a = 1,, b = 2", `f:1: expected a key or $include{...} (at most one comma after each entry), found ","`},
		{"a = 1,\n,", `f:2: expected a key or $include{...} (at most one comma after each entry), found ","`},
		{"a = {,}", `f:1: expected a key, $include{...} or "}" (at most one comma after each entry), found ","`},
		{"a = [,]", `f:1: expected a value or "]", found "," (at most one comma after each item)`},
		{"a = [x,,y]", `f:1: expected a value or "]", found "," (at most one comma after each item)`},
		{"}", `f:1: expected a key or $include{...}, found "}"`},
		{"a = 1\n]", `f:2: expected a key or $include{...}, found "]"`},
		{"a = {\nb = 1\n", `f:1: hash never closed (expected "}" before the end of the file)`},
		{"a = [\nb\n", `f:1: array never closed (expected "]" before the end of the file)`},
		{"a = [x}", `f:1: expected a value (a scalar, "[", "{" or $include{...}) after "[" or an item, found "}"`},
		{"a = \"x\n\ny", `f:1: quoted string never closed (expected a closing '"' before the end of the file)`},
		{"a = $x", `f:1: expected $include{...}: "$" starts only $include{ (quote a scalar that begins with "$")`},
		{"$x = 1", `f:1: expected $include{...}: "$" starts only $include{ (quote a scalar that begins with "$")`},
		{"a = $include {x}", `f:1: expected $include{...}: "$" starts only $include{ (quote a scalar that begins with "$")`},
		{"a = $include{}", `f:1: expected a file name in $include{...}, found "}"`},
		{"a = $include{x y}", `f:1: expected "}" after the file name of $include{x, found "y"`},
		{"a = \\", `f:1: backslash at the end of the file (expected a byte or three digits 000 to 255 after it)`},
		{"a = \\1", `f:1: bad escape "\\1" (expected three digits 000 to 255 after a backslash, or one non-digit byte)`},
		{"a = \"\\12x\"", `f:1: bad escape "\\12" (expected three digits 000 to 255 after a backslash, or one non-digit byte)`},
		{"a = \\256", `f:1: bad escape \256 (expected three digits 000 to 255 after a backslash)`},
		{"\n\nx = 1\ny = 2\nx = 3", `f:5: duplicate key "x" (first at line 3; expected each key once in a hash)`},
		{"a = { b = 1, b = 2 }", `f:1: duplicate key "b" (first at line 1; expected each key once in a hash)`},
		{"[a] [b]", `f:1: expected the end of the file after the top-level array, found "["`},
		{"[a] b = c", `f:1: expected the end of the file after the top-level array, found "b"`},
		{"a = 1 [b]", `f:1: expected a key or $include{...}, found "["`},
		{"a = 1\nb\n\n\n", `f:2: expected "=" or "=>" after key "b", found the end of the file`}, // not a line past the text
		{"a = \"x\"y", `f:1: expected "=" or "=>" after key "y", found the end of the file`},     // no space needed between entries
		{strings.Repeat("[", MaxDepth+1), `f:1: nesting deeper than 1000 arrays, hashes and includes (expected at most 1000)`},
	} {
		_, err := Parse("f", []byte(tc.in))
		if err == nil {
			t.Errorf("%q: no error, want %s", tc.in, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.in, err, tc.want)
		}
	}
}

func TestPositions(t *testing.T) {
	in := "# head\nopts => {\n  listen => [ \"a\", b ]\n\tx=1\n}\n"
	n, err := Parse("dir/config", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	opts := n.Pairs[0]
	listen := opts.Value.Pairs[0]
	x := opts.Value.Pairs[1]
	for _, tc := range []struct {
		name      string
		line, col int
		got       [2]int
	}{
		{"opts key", 2, 1, [2]int{opts.KeyPos.Line, opts.KeyPos.Col}},
		{"opts hash", 2, 9, [2]int{opts.Value.Pos.Line, opts.Value.Pos.Col}},
		{"listen key", 3, 3, [2]int{listen.KeyPos.Line, listen.KeyPos.Col}},
		{"listen array", 3, 13, [2]int{listen.Value.Pos.Line, listen.Value.Pos.Col}},
		{"listen a", 3, 15, [2]int{listen.Value.Items[0].Pos.Line, listen.Value.Items[0].Pos.Col}},
		{"listen b", 3, 20, [2]int{listen.Value.Items[1].Pos.Line, listen.Value.Items[1].Pos.Col}},
		{"x key", 4, 2, [2]int{x.KeyPos.Line, x.KeyPos.Col}},
		{"x value", 4, 4, [2]int{x.Value.Pos.Line, x.Value.Pos.Col}},
		{"root", 1, 1, [2]int{n.Pos.Line, n.Pos.Col}},
	} {
		if tc.got != [2]int{tc.line, tc.col} {
			t.Errorf("%s at %d:%d, want %d:%d", tc.name, tc.got[0], tc.got[1], tc.line, tc.col)
		}
	}
	if x.Value.Pos.File != "dir/config" {
		t.Errorf("file %q", x.Value.Pos.File)
	}
	// a quoted string with newlines: what follows is on the right line
	n, err = Parse("f", []byte("a = \"1\n2\n\"\nb = 3"))
	if err != nil {
		t.Fatal(err)
	}
	if p := n.Pairs[1].KeyPos; p.Line != 4 || p.Col != 1 {
		t.Errorf("b at %v:%d, want line 4 col 1", p, p.Col)
	}
}

func TestComments(t *testing.T) {
	in := `# file header

# about a
a => 1 # a's note
b => [ # opens b
  # about x
  x, # x's note
  y
  # end of b
] ; b closed
; about c
c => { d => e } # c's note
# the end
`
	n, err := Parse("f", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := n.Pairs[0], n.Pairs[1], n.Pairs[2]
	check := func(what string, got, want any) {
		t.Helper()
		if g, w := strings.Join(asList(got), "|"), strings.Join(asList(want), "|"); g != w {
			t.Errorf("%s: got %q, want %q", what, g, w)
		}
	}
	check("a comments", a.Comments, []string{"# file header", "# about a"})
	check("a line", a.LineComment, "# a's note")
	check("b comments", b.Comments, nil)
	check("b line", b.LineComment, "")
	check("x comments", b.Value.Items[0].Comments, []string{"# opens b", "# about x"})
	check("x line", b.Value.Items[0].LineComment, "# x's note")
	check("y", b.Value.Items[1].Comments, nil)
	check("b end", b.Value.EndComments, []string{"# end of b"})
	check("b closing line", b.Value.LineComment, "; b closed")
	check("c comments", c.Comments, []string{"; about c"})
	check("c line", c.LineComment, "# c's note")
	check("root end", n.EndComments, []string{"# the end"})
}

func asList(v any) []string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []string:
		return v
	}
	return nil
}

func TestTypedReaders(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"10", 10, true}, {"0x10", 16, true}, {"0X1f", 31, true}, {"010", 8, true},
		{"08", 0, false}, {"0x", 0, false}, {"", 0, false}, {"1a", 0, false}, {" 5", 5, true},
		{"+5", 5, true}, {"-1", 1<<64 - 1, true}, {"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false}, {"1_000", 0, false}, {"5 ", 0, false}, {"0b1", 0, false},
	} {
		n := &Node{Kind: Scalar, Value: tc.in}
		got, err := n.Uint()
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Uint(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"true", true, false}, {"TRUE", true, false}, {"tRuE", true, false}, {"false", false, false},
		{"False", false, false}, {"yes", false, true}, {"1", false, true}, {"", false, true}, {"true ", false, true},
	} {
		got, err := (&Node{Kind: Scalar, Value: tc.in}).Bool()
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("Bool(%q) = %v, %v", tc.in, got, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0.5", 0.5, true}, {"-77.49", -77.49, true}, {"1e3", 1000, true}, {" 2", 2, true}, {"0x10", 16, true},
		{"0x1p4", 16, true}, {"", 0, false}, {"1.5x", 0, false}, {"1e999", 0, false}, {"+-1", 0, false}, {"1_0", 0, false},
	} {
		got, err := (&Node{Kind: Scalar, Value: tc.in}).Float()
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Float(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	n, err := Parse("f", []byte("a = [1]\nb = x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Get("a").Uint(); err == nil || err.Error() != "f:1: expected an unsigned integer, got an array" {
		t.Errorf("array as uint: %v", err)
	}
	if _, err := n.Get("b").Uint(); err == nil || err.Error() != `f:2: expected an unsigned integer (decimal, 0x hex or 0 octal), got "x"` {
		t.Errorf("x as uint: %v", err)
	}
	if _, err := n.Get("nope").Bool(); err == nil {
		t.Error("missing value read as a bool")
	}
	if got := len(n.Get("a").List()); got != 1 {
		t.Errorf("List of [1]: %d items", got)
	}
	if l := n.Get("b").List(); len(l) != 1 || l[0].Value != "x" {
		t.Errorf("List of a scalar: %v", l)
	}
	if n.Get("b").Get("x") != nil || n.Get("zz") != nil {
		t.Error("Get on a scalar or a missing key returned a node")
	}
}
