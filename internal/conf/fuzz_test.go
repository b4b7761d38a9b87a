package conf

import (
	"errors"
	"testing"
)

// FuzzDecodeYAML feeds outside input to the decoder and the walker: they
// must not panic, must bound what aliases expand to, and must locate every
// error.
func FuzzDecodeYAML(f *testing.F) {
	for _, s := range []string{
		"", "a: 1\n", "a: [1, 2\n", "a: {b: c}\n", "- a\nb: 1\n", "a: &x [1]\nb: *x\n", "a: *nope\n",
		"---\na: 1\n---\nb: 2\n", "a:\n  b:\n    - c\n    - {d: e}\n", "a: 'x\n", "a: \x01\n", "? [a]\n: b\n",
		"a: !!str 1\nb: |\n  text\n", "<<: {a: 1}\n", "a: 1\na: 2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := DecodeYAML("f.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Pos.File != "f.yaml" {
				t.Fatalf("unlocated error: %#v", err)
			}
			return
		}
		if root != nil && root.size > maxNodes {
			t.Fatalf("expanded to %d nodes", root.size)
		}
		var l List
		walk(&l, root, "")
		for _, e := range l.Sorted() {
			if e.Pos.Line == 0 {
				t.Fatalf("walker error without a line: %v", e)
			}
		}
	})
}

// walk visits every mapping once per path, as a reader would.
func walk(l *List, n *Node, path string) {
	if n == nil {
		return
	}
	switch n.Kind {
	case MappingNode:
		l.Pairs(n, path, func(key string, _, v *Node) { walk(l, v, Join(path, key)) })
	case SequenceNode:
		for _, c := range n.Content {
			walk(l, c, path)
		}
	}
}
