package pylit

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// pybal.conf values and pool lines are outside input: any text either
// parses or is refused, never evaluated and never a panic. What parses
// prints back (as Python would write it) to text that parses to the same
// value, and StringList accepts exactly the strings and lists of strings.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`"a"`, `'it\'s'`, `10`, `-3`, `.5`, `10.0`, `True`, `False`, `None`, `[]`, `["a", 'b',]`,
		`("a",)`, `[1, [2, "x"]]`, `{ 'host': 'mw1020.eqiad.wmnet', 'weight': 10, 'enabled': True, 'weight': 20 }`,
		`__import__('os').system('true')`, `["a" "b"]`, `"unterminated`, `{[1]: 2}`, `0x1F`, `1e400`, `1_000`,
		`["http://en.wikipedia.org/", 'http://x/']  # comment`, `"tab\there\\"`, `{1: None, 1.0: 2, True: 3}`,
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		list, lerr := StringList(s)
		if err != nil {
			if lerr == nil {
				t.Fatalf("StringList accepted %q, which does not parse: %v", list, err)
			}
			return
		}
		if (lerr == nil) != isStrings(v) {
			t.Fatalf("StringList(%q) = %q, %v for value %#v", s, list, lerr, v)
		}
		text := repr(v)
		back, err := Parse(text)
		if err != nil || !reflect.DeepEqual(back, v) {
			t.Fatalf("%#v printed as %s parses to %#v, %v", v, text, back, err)
		}
	})
}

func isStrings(v Value) bool {
	switch t := v.(type) {
	case string:
		return true
	case []Value:
		for _, e := range t {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// repr writes v as a Python literal.
func repr(v Value) string {
	switch t := v.(type) {
	case string:
		r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\t", `\t`)
		return "'" + r.Replace(t) + "'"
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		s := strconv.FormatFloat(t, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return s
	case bool:
		if t {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	case []Value:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = repr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *Dict:
		parts := make([]string, len(t.Keys))
		for i := range t.Keys {
			parts[i] = repr(t.Keys[i]) + ": " + repr(t.Values[i])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	panic("unknown value type")
}
