package vscf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree writes files (name → content) under a new temporary directory; a
// name ending in "/" is an empty directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestIncludes(t *testing.T) {
	dir := tree(t, map[string]string{
		"h.conf":          "x = 1\ny = 2\n",
		"arr.conf":        "[p q]",
		"d/10-a.conf":     "a = 1\n",
		"d/20-b.conf":     "b = { c = $include{../h.conf} }\n",
		"d/.hidden":       "hidden = 1\n",
		"d/sub/inner":     "not = read\n",
		"g/1.cf":          "g1 = 1\n",
		"g/2.cf":          "g2 = 2\n",
		"g/3.txt":         "g3 = 3\n",
		"empty/":          "",
		"spaced dir/f":    "s = 1\n",
		"nested/one.conf": "n = $include{two.conf}\n",
		"nested/two.conf": "[deep]\n",
		"a b":             "ab = space\n",
		"a\\ b":           "ab = backslash\n",
		"lit\\x":          "lit = 1\n",
	})
	for _, tc := range []struct{ in, want string }{
		{"a = $include{h.conf}", `{"a":{"x":"1" "y":"2"}}`},
		{"a = $include{ \"h.conf\" }", `{"a":{"x":"1" "y":"2"}}`},
		{"a = $include{arr.conf}", `{"a":["p" "q"]}`},
		{"a = [1 $include{arr.conf} 2]", `{"a":["1" ["p" "q"] "2"]}`}, // not spliced
		{"[$include{h.conf}]", `[{"x":"1" "y":"2"}]`},
		{"$include{h.conf}\nz = 3", `{"x":"1" "y":"2" "z":"3"}`},
		{"z = 3, $include{h.conf}, w = 4", `{"z":"3" "x":"1" "y":"2" "w":"4"}`},
		{"o = { $include{h.conf} }", `{"o":{"x":"1" "y":"2"}}`},
		{"$include{" + dir + "/h.conf}", `{"x":"1" "y":"2"}`}, // absolute
		{"$include{g/*.cf}", `{"g1":"1" "g2":"2"}`},
		{"$include{\"g/[!3]*\"}", `{"g1":"1" "g2":"2"}`},
		{"$include{d/*.conf}", `{"a":"1" "b":{"c":{"x":"1" "y":"2"}}}`}, // nested, relative to d/
		{"$include{empty}", `{}`},
		{"a = $include{empty}\nb = 1", `{"b":"1"}`}, // gdnsd drops the key
		{"a = [$include{empty}]", `{"a":[]}`},
		{"$include{\"spaced dir\"}", `{"s":"1"}`},
		{"a = $include{nested/one.conf}", `{"a":{"n":["deep"]}}`},
		// the path is not unescaped, but the glob reads \ as quoting the
		// next byte; a path the glob does not match is read literally
		{"$include{a\\ b}", `{"ab":"space"}`},
		{"$include{lit\\x}", `{"lit":"1"}`},
	} {
		n, err := Parse(filepath.Join(dir, "config"), []byte(tc.in))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := dump(n); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestIncludeDirectoryReadsDirStar(t *testing.T) {
	dir := tree(t, map[string]string{"d/1": "a = 1\n", "d/.x": "b = 2\n"})
	n, err := Parse(filepath.Join(dir, "config"), []byte("$include{d}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(n); got != `{"a":"1"}` {
		t.Errorf("got %s", got)
	}
	// a directory holding a directory: gdnsd opens it as a file and fails
	dir = tree(t, map[string]string{"d/sub/x": "a = 1\n"})
	_, err = Parse(filepath.Join(dir, "config"), []byte("$include{d}\n"))
	want := "config:1: $include{d}: " + filepath.Join(dir, "d/sub") + " is a directory (expected the glob to match files only)"
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("got %v, want ...%s", err, want)
	}
}

func TestIncludeErrors(t *testing.T) {
	dir := tree(t, map[string]string{
		"h.conf":     "x = 1\n",
		"h2.conf":    "x = 2\n",
		"arr.conf":   "[p]",
		"bad.conf":   "\n\nx = \n",
		"loop/a":     "a = $include{b}\n",
		"loop/b":     "\nb = $include{a}\n",
		"self":       "$include{self}\n",
		"self2":      "a = $include{self2}\n",
		"dup/1":      "k = 1\n",
		"dup/2":      "\nk = 2\n",
		"deep/inner": "y = $include{../bad.conf}\n",
	})
	cfg := filepath.Join(dir, "config")
	for _, tc := range []struct{ in, want string }{
		{"a = $include{nope}", "config:1: $include{nope}: no file matches DIR/nope (expected an existing file, a directory or a glob matching at least one file)"},
		{"\n$include{*.none}", "config:2: $include{*.none}: no file matches DIR/*.none (expected an existing file, a directory or a glob matching at least one file)"},
		{"a = $include{h*.conf}", "config:1: $include{h*.conf} matches 2 files (DIR/h.conf, DIR/h2.conf); a value takes exactly one (expected one file)"},
		{"$include{arr.conf}", "config:1: $include{arr.conf}: DIR/arr.conf holds an array, which cannot be merged into a hash (expected a file of key = value entries)"},
		{"$include{h*.conf}", `h2.conf:1: duplicate key "x" (first at DIR/h.conf:1, merged by $include{h*.conf} at DIR/config:1; expected each key once in a hash)`},
		{"x = 0\n$include{h.conf}", `h.conf:1: duplicate key "x" (first at DIR/config:1, merged by $include{h.conf} at DIR/config:2; expected each key once in a hash)`},
		{"$include{h.conf}\nx = 0", `config:2: duplicate key "x" (first at DIR/h.conf:1; expected each key once in a hash)`},
		{"$include{dup}", `dup/2:2: duplicate key "k" (first at DIR/dup/1:1, merged by $include{dup} at DIR/config:1; expected each key once in a hash)`},
		{"a = $include{bad.conf}", `bad.conf:3: expected a value (a scalar, "[", "{" or $include{...}) after key "x", found the end of the file`},
		{"a = $include{deep/inner}", `bad.conf:3: expected a value (a scalar, "[", "{" or $include{...}) after key "x", found the end of the file`},
		{"a = $include{loop/a}", "loop/b:2: $include{a}: include loop DIR/loop/a -> DIR/loop/b -> DIR/loop/a (expected no file to include itself)"},
		{"$include{self}", "self:1: $include{self}: include loop DIR/self -> DIR/self (expected no file to include itself)"},
		{"a = $include{/dev/zero}", "config:1: $include{/dev/zero}: /dev/zero is not a regular file (expected a file)"},
		{"a = $include{self2}", "self2:1: $include{self2}: include loop DIR/self2 -> DIR/self2 (expected no file to include itself)"},
	} {
		_, err := Parse(cfg, []byte(tc.in))
		want := strings.ReplaceAll(tc.want, "DIR", dir)
		if err == nil || !strings.HasSuffix(err.Error(), want) || !strings.HasPrefix(err.Error(), dir+"/") {
			t.Errorf("%q:\n got %v\nwant %s/...%s", tc.in, err, dir, want)
		}
	}
}

// ParseFile resolves relative to the file's directory, not the working
// directory, and reports a missing file with its name.
func TestParseFile(t *testing.T) {
	dir := tree(t, map[string]string{"etc/config": "a = $include{inc}\n", "etc/inc": "b = 1\n"})
	n, err := ParseFile(filepath.Join(dir, "etc/config"))
	if err != nil {
		t.Fatal(err)
	}
	if got := dump(n); got != `{"a":{"b":"1"}}` {
		t.Errorf("got %s", got)
	}
	if v := n.Get("a").Get("b"); v.Pos.File != filepath.Join(dir, "etc/inc") || v.Pos.Line != 1 {
		t.Errorf("included value at %+v", v.Pos)
	}
	_, err = ParseFile(filepath.Join(dir, "missing"))
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "missing")+": open ") {
		t.Errorf("missing file: %v", err)
	}
}

// The benchmark's gdnsd config is real-shaped gdnsd syntax.
func TestBenchConfig(t *testing.T) {
	n, err := ParseFile("../bench/authdns/gdnsd/config.in")
	if err != nil {
		t.Fatal(err)
	}
	maps := n.Get("plugins").Get("geoip").Get("maps").Get("generic-map")
	if got := dump(maps.Get("datacenters")); got != `["eqiad" "codfw" "ulsfo" "esams" "eqsin" "drmrs" "magru"]` {
		t.Errorf("datacenters %s", got)
	}
	if got := dump(maps.Get("map").Get("NA").Get("US").Get("CA")); got != `["ulsfo" "codfw" "eqiad"]` {
		t.Errorf("NA/US/CA %s", got)
	}
	if v, err := maps.Get("auto_dc_limit").Uint(); err != nil || v != 3 {
		t.Errorf("auto_dc_limit %d, %v", v, err)
	}
	if v, err := maps.Get("auto_dc_coords").Get("eqiad").Items[1].Float(); err != nil || v != -77.49 {
		t.Errorf("eqiad longitude %v, %v", v, err)
	}
	if v, err := maps.Get("ignore_ecs").Bool(); err != nil || v {
		t.Errorf("ignore_ecs %v, %v", v, err)
	}
	opts := n.Pairs[0]
	if opts.Key != "options" || len(opts.Comments) != 5 || opts.Value.Pairs[1].LineComment == "" {
		t.Errorf("options comments %q, udp_threads line comment %q", opts.Comments, opts.Value.Pairs[1].LineComment)
	}
}

func TestParseNoInclude(t *testing.T) {
	dir := tree(t, map[string]string{"inc": "x = 1\n"})
	for _, in := range []string{"$include{inc}\n", "a = $include{inc}\n", "[$include{inc}]"} {
		_, err := ParseNoInclude(filepath.Join(dir, "f"), []byte(in))
		want := ":1: $include is not allowed in this file, which is read on its own (expected key = value entries)"
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%q: %v", in, err)
		}
	}
	if n, err := ParseNoInclude("f", []byte("a = \"$include{x}\"\n")); err != nil || n.Get("a").Value != "$include{x}" {
		t.Errorf("quoted: %v", err)
	}
}

// Comments on a merging $include go to the first key it brings, or to
// what follows when it brings none.
func TestIncludeComments(t *testing.T) {
	dir := tree(t, map[string]string{"h.conf": "# in h\nx = 1\n", "empty/": ""})
	n, err := Parse(filepath.Join(dir, "config"), []byte("# about h\n$include{h.conf} # merged\n# about e\n$include{empty}\ny = 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(n.Pairs[0].Comments, "|"); got != "# about h|# merged|# in h" {
		t.Errorf("x comments %q", got)
	}
	if got := strings.Join(n.Pairs[1].Comments, "|"); got != "# about e" {
		t.Errorf("y comments %q", got)
	}
}
