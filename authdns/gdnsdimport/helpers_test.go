package gdnsdimport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// gdnsdDir writes files (path relative to the directory → content) into
// a fresh directory and returns it.
func gdnsdDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// translated translates a gdnsd directory made of files in memory, and
// checks that every generated YAML file decodes.
func translated(t *testing.T, files map[string]string, o Options) (*translator, *Result) {
	t.Helper()
	o.From = gdnsdDir(t, files)
	tr, res, err := translateDir(o)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range tr.files {
		if _, err := conf.DecodeYAML(name, data); err != nil {
			t.Fatalf("%s does not decode: %v\n%s", name, err, data)
		}
	}
	return tr, res
}

// decoded is the root of generated file name.
func decoded(t *testing.T, tr *translator, name string) *conf.Node {
	t.Helper()
	data, ok := tr.files[name]
	if !ok {
		t.Fatalf("no %s generated", name)
	}
	n, err := conf.DecodeYAML(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// at follows a dotted path of keys (and #N sequence indexes) from n.
func at(t *testing.T, n *conf.Node, path string) *conf.Node {
	t.Helper()
	for _, k := range strings.Split(path, ".") {
		if n == nil {
			break
		}
		if strings.HasPrefix(k, "#") {
			i := int(k[1] - '0')
			if n.Kind != conf.SequenceNode || i >= len(n.Content) {
				t.Fatalf("%s: no item %d", path, i)
			}
			n = n.Content[i]
			continue
		}
		n = n.Get(k)
	}
	if n == nil {
		t.Fatalf("%s: missing", path)
	}
	return n
}

// values renders a YAML node compactly: scalars as text, [a b] and {k: v}.
func values(n *conf.Node) string {
	switch n.Kind {
	case conf.ScalarNode:
		return n.Value
	case conf.SequenceNode:
		parts := []string{}
		for _, c := range n.Content {
			parts = append(parts, values(c))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case conf.MappingNode:
		parts := []string{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, n.Content[i].Value+": "+values(n.Content[i+1]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "~"
}

// noteLines renders the notes as the command prints them.
func noteLines(notes []Note) []string {
	out := make([]string, len(notes))
	for i, n := range notes {
		out[i] = n.String()
	}
	return out
}

// hasNote fails unless a note line contains every part.
func hasNote(t *testing.T, notes []Note, parts ...string) {
	t.Helper()
	for _, l := range noteLines(notes) {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return
		}
	}
	t.Errorf("no note with %q in:\n%s", parts, strings.Join(noteLines(notes), "\n"))
}
