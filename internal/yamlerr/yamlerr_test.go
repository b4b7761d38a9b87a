package yamlerr

import (
	"testing"

	"gopkg.in/yaml.v3"
)

// Each document's real error line is known; yaml.v3's own numbers are
// 0-based for some of them and missing for others.
func TestWrapGivesTheRealLine(t *testing.T) {
	tests := []struct {
		name, doc string
		want      string
	}{
		{"unclosed flow sequence on the first line", "listen: [\"127.0.0.1:0\"\ndata: data\n", "f.yaml:2: did not find expected ',' or ']'"},
		{"unclosed flow sequence further down", "a: 1\nb: 2\nc: [1, 2\nd: 4\n", "f.yaml:3: did not find expected ',' or ']'"},
		{"unclosed flow mapping", "a: 1\nb: 2\nc: {x: 1\n", "f.yaml:3: did not find expected ',' or '}'"},
		{"sequence entry in a mapping", "a: 1\nb: 2\n- c\n", "f.yaml:3: did not find expected key"},
		{"bad indentation", "a:\n  b: 1\n c: 2\n", "f.yaml:3: did not find expected key"},
		{"mapping in a sequence", "- a\nb: 1\n", "f.yaml:2: did not find expected '-' indicator"},
		{"character that starts no token", "a: 1\nb: 2\nc: @x\n", "f.yaml:3: found character that cannot start any token"},
		{"unterminated quote", "a: 1\n\n\nkey: 'unterminated\n", "f.yaml:4: found unexpected end of stream"},
		{"mapping value on the first line", "a: b: c\n", "f.yaml:1: mapping values are not allowed in this context"},
		{"mapping value further down", "x: 1\na: b: c\n", "f.yaml:2: mapping values are not allowed in this context"},
		{"unknown anchor", "a: 1\nb: *nope\n", "f.yaml:2: unknown anchor 'nope' referenced"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n yaml.Node
			err := yaml.Unmarshal([]byte(tc.doc), &n)
			if err == nil {
				t.Fatal("yaml.v3 accepted the document")
			}
			if got := Wrap("f.yaml", []byte(tc.doc), err).Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s\n(yaml.v3: %v)", got, tc.want, err)
			}
		})
	}
}
