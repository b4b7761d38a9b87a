package gdnsdimport

import (
	"fmt"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/vscf"
)

// sameTree checks that YAML node y holds what vscf node v holds: the same
// structure, keys in the same order, the same scalar text (bytes YAML
// cannot hold replaced as the translation reports).
func sameTree(v *vscf.Node, y *conf.Node, path string) error {
	switch v.Kind {
	case vscf.Scalar:
		if y.Kind != conf.ScalarNode || y.Value != toValid(v.Value) {
			return fmt.Errorf("%s: %q became %s", path, v.Value, y.Describe())
		}
	case vscf.Array:
		if y.Kind != conf.SequenceNode || len(y.Content) != len(v.Items) {
			return fmt.Errorf("%s: an array of %d became %s", path, len(v.Items), y.Describe())
		}
		for i, it := range v.Items {
			if err := sameTree(it, y.Content[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case vscf.Hash:
		if y.Kind != conf.MappingNode || len(y.Content) != 2*len(v.Pairs) {
			return fmt.Errorf("%s: a hash of %d became %s", path, len(v.Pairs), y.Describe())
		}
		for i, p := range v.Pairs {
			if k := y.Content[2*i]; k.Value != toValid(p.Key) {
				return fmt.Errorf("%s: key %q became %q", path, p.Key, k.Value)
			}
			if err := sameTree(p.Value, y.Content[2*i+1], join(path, p.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// roundTrip writes any vscf tree as YAML and checks it decodes to the
// same tree.
func roundTrip(t *testing.T, data []byte) {
	root, err := vscf.Parse("/nonexistent-gdnsd/config", data) // $include finds nothing
	if err != nil {
		return
	}
	tr := &translator{from: "/gdnsd", cfg: yMapOf(), plugins: yMapOf(), files: map[string][]byte{}, netsOut: map[string]string{}}
	out := encodeYAML([]string{"# header"}, tr.copyNode(root, ""))
	y, err := conf.DecodeYAML("out.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if y == nil {
		y = &conf.Node{Kind: conf.MappingNode}
	}
	if err := sameTree(root, y, ""); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The whole translation of the same tree: no panic, every file YAML.
	if root.Kind != vscf.Hash {
		return
	}
	tr.translate(root, root.Get("options"))
	tr.encode()
	for name, data := range tr.files {
		if _, err := conf.DecodeYAML(name, data); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, data)
		}
	}
}

var fuzzSeeds = []string{
	geoConfig,
	geoMaps,
	"a => { b => [ 1, \"x y\", { c = d } ] } # c\n",
	"options => { listen => [ 192.0.2.1, \"[::1]:53\" ], nsid => 6869, tcp_threads => 0x2 }\n",
	"plugins => { weighted => { w => { a => [ 192.0.2.1, 010 ] } }, static => { yes => no, on => ~ } }\n",
	"\"\" => \"\", \"a:b\" => \"- x\", \"#\" => \"\\\"\", k => \"\\001\\377\\t\"\n",
	"[ a, [ b, [ c ] ], {}, [] ]\n",
	"service_types => { n => { plugin => null } }\nplugins => { geoip => { maps => { m => { nets => { 10/8 => a } } } } }\n",
	"x => \"line1\nline2\" ; comment\n# end\n",
	"k => \" lead\", t => \"trail \", u => \"\\u2028\", e => \"\u2028\", b => \"\xef\xbb\xbf\"\n",
	"-1 => -x, .5 => .inf, 1e3 => 0x1p3, null => Null, ~ => y, N => n\n",
}

func TestRoundTrip(t *testing.T) {
	for _, s := range fuzzSeeds {
		roundTrip(t, []byte(s))
	}
}

// FuzzTranslate translates any vscf configuration: no panic, every file
// written decodes as YAML, and a tree copied as it is decodes back to the
// same tree.
func FuzzTranslate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(roundTrip)
}
