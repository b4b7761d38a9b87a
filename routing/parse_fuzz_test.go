package routing

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/geotraffic/geotraffic/internal/conf"
)

// routing.yaml is operator input: any text either parses into a config
// that resolves with every site up and each one down, or is refused with
// problems each on a line of the text. Parsing is deterministic, so the
// digest a watcher keys on means the same config.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../config/routing.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{seeds, string(example), "", "sites: [\n", sitesBlock + "clusters: {}\nextra: 1\n",
		"sites:\n  eqiad: {coords: [91, 2]}\n  codfw: {coords: [x, 2]}\n  ulsfo: {}\nclusters: {}\n",
		sitesBlock + "clusters:\n  text:\n    route_table:\n      eqiad: direct\n      codfw: [ulsfo, eqiad]\n      ulsfo: codfw\n",
		"a: &x [*x]\n", "sites: {eqiad: {coords: [1e400, -0]}}\nclusters: {text: {route_table: {eqiad: direct}, apps: {a: {route: eqiad}}}}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("routing.yaml", data)
		if err != nil {
			checkLines(t, err, data)
			return
		}
		again, err := Parse("routing.yaml", data)
		if err != nil || len(again.Clusters) != len(cfg.Clusters) || len(again.Sites) != len(cfg.Sites) {
			t.Fatalf("a second parse gave %d clusters, %d sites, %v", len(again.Clusters), len(again.Sites), err)
		}
		checkResolves(t, cfg)
	})
}

// checkLines: err is one or more conf errors, each naming the file and a
// line of data.
func checkLines(t *testing.T, err error, data []byte) {
	t.Helper()
	var e *conf.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %#v is not a conf error", err)
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, u := range append([]error{err}, unwrapAll(err)...) {
		if errors.As(u, &e) && (e.Pos.File != "routing.yaml" || e.Pos.Line < 1 || e.Pos.Line > lines) {
			t.Fatalf("problem %q is not on a line of the text (%d lines)", e, lines)
		}
	}
}

func unwrapAll(err error) []error {
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		return m.Unwrap()
	}
	return nil
}
