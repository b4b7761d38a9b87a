package routing

import (
	"slices"
	"testing"
)

// FuzzParseRouteValue: any bytes either parse or give an error, never a
// panic. An accepted value is a valid route_table entry, survives Value()
// unchanged, and as an override either is refused or resolves.
func FuzzParseRouteValue(f *testing.F) {
	for _, s := range []string{`{"route": ["codfw", "eqiad"]}`, `{"route": "codfw"}`, `{"route": "direct"}`,
		`{"route": "ulsfo"}`, `{"route": ["esams", "ulsfo"]}`, `{"route": ["codfw", "direct"]}`, `{"route": []}`,
		`{"route": "codfw", "x": 1}`, `{}`, ``, `[1]`, `{"route": &a x}`, "{\"route\": \"codfw\"}\n---\n{}"} {
		f.Add([]byte(s))
	}
	cfg := mustParseF(f, seeds)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseRouteValue(data)
		if err != nil {
			return
		}
		if s.Direct == (len(s.Choices) > 0) || slices.Contains(s.Choices, "direct") || slices.Contains(s.Choices, "") ||
			len(slices.Compact(slices.Sorted(slices.Values(s.Choices)))) != len(s.Choices) {
			t.Fatalf("accepted an invalid route %+v", s)
		}
		if back, err := ParseRouteValue(s.Value()); err != nil || !back.Equal(s) {
			t.Fatalf("%s: round trip gave %+v, %v", s.Value(), back, err)
		}
		over, err := cfg.WithOverrides(Overrides{Routes: map[string]map[string]RouteSpec{"text": {"ulsfo": s}}})
		if err == nil {
			checkResolves(t, over)
		}
	})
}

// FuzzParseAppRouteValue: as FuzzParseRouteValue, for app routes.
func FuzzParseAppRouteValue(f *testing.F) {
	for _, s := range []string{`{"route": "eqiad"}`, `{"route": ["eqiad", "codfw"]}`, `{"route": {"active-active": ["eqiad", "codfw"]}}`,
		`{"route": ["codfw"]}`, `{"route": {"active-active": []}}`, `{"route": {"active-passive": ["eqiad"]}}`,
		`{"route": ["eqiad", "eqiad"]}`, `{"route": "eqiad", "backends": {}}`, `{"route": null}`, `null`} {
		f.Add([]byte(s))
	}
	cfg := mustParseF(f, seeds)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseAppRouteValue(data)
		if err != nil {
			return
		}
		if (s.Mode != Ordered && s.Mode != ActiveActive) || len(s.DCs) == 0 || slices.Contains(s.DCs, "") {
			t.Fatalf("accepted an invalid app route %+v", s)
		}
		if back, err := ParseAppRouteValue(s.Value()); err != nil || !back.Equal(s) {
			t.Fatalf("%s: round trip gave %+v, %v", s.Value(), back, err)
		}
		over, err := cfg.WithOverrides(Overrides{AppRoutes: map[string]map[string]AppRouteSpec{"text": {"api": s}}})
		if err == nil {
			checkResolves(t, over)
		}
	})
}

func mustParseF(f *testing.F, src string) *Config {
	cfg, err := Parse("routing.yaml", []byte(src))
	if err != nil {
		f.Fatal(err)
	}
	return cfg
}

// checkResolves resolves cfg with every site up and with each site DOWN:
// every result has a known status and a path starting at its entry.
func checkResolves(t *testing.T, cfg *Config) {
	t.Helper()
	for _, down := range append([][]string{nil}, slices.Collect(func(yield func([]string) bool) {
		for _, s := range sortedKeys(cfg.Sites) {
			if !yield([]string{s}) {
				return
			}
		}
	})...) {
		for _, r := range Resolve(cfg, WithDown(nil, down)) {
			if !slices.Contains(Statuses, r.Status) || len(r.Path) == 0 || r.Path[0] != r.Site {
				t.Fatalf("down %v: bad result %+v", down, r)
			}
		}
	}
}
