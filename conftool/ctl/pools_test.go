package ctl

import (
	"fmt"
	"strings"
	"testing"
)

func TestParsePools(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      string // "dc/cluster/service/host@line" joined by " "
		err       string
	}{
		{"empty", "", "", ""},
		{"comments only", "# nothing yet\n", "", ""},
		{"fleet", "eqiad:\n  appserver:\n    mw1001.eqiad.wmnet: [apache2, nginx]\n    mw1002.eqiad.wmnet: [apache2]\ncodfw:\n  appserver:\n    mw2001.codfw.wmnet:\n      - apache2\n",
			"eqiad/appserver/apache2/mw1001.eqiad.wmnet@3 eqiad/appserver/nginx/mw1001.eqiad.wmnet@3 eqiad/appserver/apache2/mw1002.eqiad.wmnet@4 codfw/appserver/apache2/mw2001.codfw.wmnet@7", ""},
		{"no services", "eqiad:\n  appserver:\n    mw1001: []\n", "", ""},
		{"anchors", "eqiad:\n  appserver:\n    mw1001: &s [apache2]\n    mw1002: *s\n", "eqiad/appserver/apache2/mw1001@3 eqiad/appserver/apache2/mw1002@4", ""},
		{"syntax", "eqiad:\n  appserver: [\n", "", "p.yaml:2:"},
		{"a list at the top", "- eqiad\n", "", "p.yaml:1: expected a mapping of dcs"},
		{"a host with no list", "eqiad:\n  appserver:\n    mw1001: apache2\n", "", "p.yaml:3: eqiad/appserver/mw1001: expected a list of services"},
		{"a host with null", "eqiad:\n  appserver:\n    mw1001:\n", "", "expected a list of services"},
		{"a cluster with a list", "eqiad:\n  appserver: [mw1001]\n", "", "p.yaml:2: eqiad/appserver: expected a mapping of hosts"},
		{"a dc with a list", "eqiad: [appserver]\n", "", "p.yaml:1: eqiad: expected a mapping of clusters"},
		{"a slash in a host", "eqiad:\n  appserver:\n    mw/1001: [apache2]\n", "", `p.yaml:3: eqiad/appserver: "mw/1001" is not a name`},
		{"a service twice", "eqiad:\n  appserver:\n    mw1001: [apache2, apache2]\n", "", "service apache2 given twice"},
		{"a host twice", "eqiad:\n  appserver:\n    mw1001: [a]\n    mw1001: [b]\n", "", "p.yaml:4: eqiad/appserver: mw1001 given twice"},
		{"a nested service", "eqiad:\n  appserver:\n    mw1001: [[apache2]]\n", "", "is not a service name"},
	} {
		nodes, err := ParsePools("p.yaml", []byte(tc.src))
		var got []string
		for _, n := range nodes {
			got = append(got, fmt.Sprintf("%s/%s/%s/%s@%d", n.DC, n.Cluster, n.Service, n.Host, n.Line))
		}
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v; want error with %q", tc.name, err, tc.err)
			}
		case err != nil || strings.Join(got, " ") != tc.want:
			t.Errorf("%s: %v, %v\nwant %s", tc.name, got, err, tc.want)
		}
	}
}

func TestParsePoolsBounded(t *testing.T) {
	// One cluster of 400 nodes, then 300 aliases of it: 120,000 nodes
	// from a few hundred lines must be cut off, not expanded.
	var b strings.Builder
	b.WriteString("eqiad:\n  c0: &c0\n")
	for j := 0; j < 200; j++ {
		fmt.Fprintf(&b, "    h%d: [a, b]\n", j)
	}
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&b, "  c%d: *c0\n", i)
	}
	nodes, err := ParsePools("bomb.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "more than 100000 nodes") || len(nodes) > maxPoolNodes {
		t.Errorf("%d nodes, %v", len(nodes), err)
	}
}

// FuzzParsePools: a pools file is outside input. Nothing may panic, and
// every node accepted must make a valid node key.
func FuzzParsePools(f *testing.F) {
	for _, s := range []string{
		"eqiad:\n  appserver:\n    mw1001.eqiad.wmnet: [apache2, nginx]\n",
		"eqiad:\n  appserver:\n    mw1001: &s [apache2]\n    mw1002: *s\n",
		"eqiad: {text: {cp1001: [varnish-fe]}}",
		"- a\n", "a: b\n", "a:\n  b:\n    c: [[d]]\n", "{", "", "*x", "a: &a\n  b: *a\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		nodes, err := ParsePools("f.yaml", []byte(src))
		if err != nil {
			return
		}
		for _, n := range nodes {
			if _, err := layout.Key("node", n.DC, n.Cluster, n.Service, n.Host); err != nil {
				t.Fatalf("accepted %+v: %v", n, err)
			}
		}
	})
}
