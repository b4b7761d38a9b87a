package pylit

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Value
	}{
		{`"a"`, "a"},
		{`'it\'s'`, "it's"},
		{`10`, int64(10)},
		{`-3`, int64(-3)},
		{`.5`, 0.5},
		{`10.0`, 10.0},
		{`True`, true},
		{`False`, false},
		{`None`, nil},
		{`[]`, []Value{}},
		{`["a", 'b',]`, []Value{"a", "b"}},
		{`("a",)`, []Value{"a"}},
		{`[1, [2, "x"]]`, []Value{int64(1), []Value{int64(2), "x"}}},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestParseDict(t *testing.T) {
	v, err := Parse(`{ 'host': 'mw1020.eqiad.wmnet', 'weight': 10, 'enabled': True, 'weight': 20 }`)
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*Dict)
	if h, _ := d.Get("host"); h != "mw1020.eqiad.wmnet" {
		t.Errorf("host = %v", h)
	}
	if w, _ := d.Get("weight"); w != int64(20) {
		t.Errorf("weight = %#v, want last duplicate 20", w)
	}
	if e, _ := d.Get("enabled"); e != true {
		t.Errorf("enabled = %v", e)
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		`__import__('os').system('true')`,
		`open("/etc/passwd")`,
		`["a" "b"]`,
		`"unterminated`,
		`[1, 2`,
		`{"a" 1}`,
		`{[1]: 2}`,
		`1 2`,
		`0x`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		``,
	} {
		if v, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %#v, want error", in, v)
		}
	}
}

func TestStringList(t *testing.T) {
	got, err := StringList(`["http://en.wikipedia.org/", 'http://x/']`)
	if err != nil || !reflect.DeepEqual(got, []string{"http://en.wikipedia.org/", "http://x/"}) {
		t.Errorf("got %v, %v", got, err)
	}
	if got, err := StringList(`"one"`); err != nil || len(got) != 1 {
		t.Errorf("bare string: %v, %v", got, err)
	}
	if _, err := StringList(`["a", 1]`); err == nil {
		t.Error("mixed list accepted")
	}
}

func TestParseNames(t *testing.T) {
	v, err := ParseNames(`["-H", server.host, "server.host"]`, []string{"server.host"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, []Value{"-H", Name("server.host"), "server.host"}) {
		t.Errorf("got %#v", v)
	}
	if _, err := ParseNames(`[server.ip]`, []string{"server.host"}); err == nil {
		t.Error("unlisted name accepted")
	}
}

// Python comments: '#' outside a string runs to the end of the line, as
// ast.literal_eval and eval accept; a '#' inside a string is kept.
func TestParseComments(t *testing.T) {
	tests := []struct {
		in   string
		want Value
	}{
		{`["IdleConnection"]  # TCP only`, []Value{"IdleConnection"}},
		{`10# no space`, int64(10)},
		{`True # yes`, true},
		{`["a#b", 'c # d']  # e`, []Value{"a#b", "c # d"}},
		{"[\"a\",  # first\n \"b\"  # second\n]", []Value{"a", "b"}},
		{"# leading\n[1]", []Value{int64(1)}},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{`# only a comment`, `[1, # unclosed`, "1 # c\n2"} {
		if v, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %#v, want error", in, v)
		}
	}
}
