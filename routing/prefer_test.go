package routing

import (
	"strings"
	"testing"
)

// rerouted is the default upload cluster with eqsin's choices of the
// issue: ulsfo first, then codfw.
const rerouted = `
sites:
  eqiad: {coords: [39.04, -77.49]}
  codfw: {coords: [32.90, -97.04]}
  ulsfo: {coords: [37.78, -122.39]}
  esams: {coords: [52.31, 4.94]}
  eqsin: {coords: [1.29, 103.85]}
clusters:
  upload:
    route_table: {eqiad: direct, codfw: eqiad, ulsfo: codfw, esams: eqiad, eqsin: [ulsfo, codfw]}
    apps:
      swift: {route: {active-active: [eqiad, codfw]}, backends: {eqiad: ms.eqiad, codfw: ms.codfw}}
`

// A choice that was itself rerouted is still usable when its resolved
// path reaches direct without a DOWN site and without coming back.
func TestReroutedChoiceIsUsable(t *testing.T) {
	swapped := strings.Replace(rerouted, "eqsin: [ulsfo, codfw]", "eqsin: [codfw, ulsfo]", 1)
	// promotable p's only choice q is rerouted by nearest to a, not to p.
	const promotable = `
sites:
  a: {coords: [0, 0]}
  q: {coords: [0, 1]}
  x: {coords: [0, 2]}
  p: {coords: [0, 10]}
clusters:
  upload:
    route_table: {a: direct, x: a, q: x, p: q}
    apps:
      api: {route: [a, p], backends: {a: api.a, p: api.p}}
`
	// codfw's only choice ulsfo is rerouted by nearest to codfw itself:
	// taking it would loop, so codfw stays promoted.
	looping := strings.Replace(rerouted, "codfw: eqiad, ulsfo: codfw, esams: eqiad", "codfw: ulsfo, ulsfo: esams, esams: eqiad", 1)
	tests := []struct {
		name, config, state string
		want                map[string]want
		details             map[string]string // site: substring of its first reason's detail
	}{
		{"all up", rerouted, "", map[string]want{
			"eqsin": {StatusOK, "eqsin ulsfo codfw eqiad", "configured configured configured configured", nil},
		}, map[string]string{"eqsin": "first choice"}},
		{"the issue: first choice rerouted by nearest", rerouted, "site/codfw => DOWN", map[string]want{
			"eqsin": {StatusOK, "eqsin ulsfo eqiad", "configured nearest configured", map[string]string{"swift": "eqiad:configured"}},
			"ulsfo": {StatusOK, "ulsfo eqiad", "nearest configured", nil},
		}, map[string]string{"eqsin": "first choice; ulsfo is itself rerouted (nearest): ulsfo > eqiad"}},
		{"fallback to a rerouted choice", swapped, "site/codfw => DOWN", map[string]want{
			"eqsin": {StatusOK, "eqsin ulsfo eqiad", "fallback nearest configured", nil},
		}, map[string]string{"eqsin": "choice 2 of 2; skipped: codfw is DOWN (admin_state line 1: site/codfw => DOWN); ulsfo is itself rerouted (nearest): ulsfo > eqiad"}},
		{"every choice DOWN: nearest stays the last resort", rerouted, "site/codfw => DOWN\nsite/ulsfo => DOWN", map[string]want{
			"eqsin": {StatusOK, "eqsin esams eqiad", "nearest configured configured", nil},
		}, map[string]string{"eqsin": "no usable choice (ulsfo is DOWN (admin_state line 2: site/ulsfo => DOWN); codfw is DOWN"}},
		{"a rerouted choice comes before promotion", promotable, "site/x => DOWN", map[string]want{
			"p": {StatusOK, "p q a", "configured nearest configured", map[string]string{"api": "a:configured"}},
			"q": {StatusOK, "q a", "nearest configured", nil},
		}, map[string]string{"p": "first choice; q is itself rerouted (nearest): q > a"}},
		{"a rerouted choice that comes back is not usable", looping, "site/esams => DOWN\nsite/eqiad => DOWN", map[string]want{
			"codfw": {StatusOK, "codfw", "promoted-to-direct", map[string]string{"swift": "codfw:configured"}},
			"ulsfo": {StatusOK, "ulsfo codfw", "nearest promoted-to-direct", nil},
			"eqsin": {StatusOK, "eqsin ulsfo codfw", "configured nearest promoted-to-direct", nil},
		}, map[string]string{"codfw": "no usable upstream (ulsfo's route comes back through codfw (ulsfo > codfw))"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Resolve(mustParse(t, tt.config), mustState(t, tt.state))
			check(t, got, "upload", tt.want)
			for _, r := range got {
				if sub, ok := tt.details[r.Site]; ok && !strings.Contains(r.Reasons[0].Detail, sub) {
					t.Errorf("%s: detail %q does not contain %q", r.Site, r.Reasons[0].Detail, sub)
				}
			}
		})
	}
}

// followChoice detects loops in resolved paths whatever built them, so a
// future pass that closes one is refused rather than followed.
func TestFollowChoice(t *testing.T) {
	next := func(s string) *decision { return &decision{next: s, choice: -1} }
	dec := map[string]*decision{
		"e": next("a"),
		"a": next("b"), "b": next("c"), "c": next("b"), // a > b > c > b
		"d": next("e"), // back to the entry e
		"f": {terminal: true, choice: -1},
		"g": next("f"),
		"h": {choice: -1}, // unreachable
		"i": next("x"),    // passes x, DOWN
	}
	downs := map[string]string{"x": "x is DOWN (what-if)", "y": "y is DOWN (what-if)"}
	tests := []struct{ hop, path, why string }{
		{"g", "g f", ""},
		{"f", "f", ""},
		{"a", "a b c", "a's route loops (a > b > c > b)"},
		{"d", "d", "d's route comes back through e (d > e)"},
		{"h", "h", "h reaches direct only through DOWN sites (its own route is unreachable)"},
		{"i", "i", "i's route passes a DOWN site: x is DOWN (what-if)"},
		{"y", "", "y is DOWN (what-if)"},
	}
	for _, tt := range tests {
		path, why := followChoice(downs, dec, "e", tt.hop)
		if strings.Join(path, " ") != tt.path || why != tt.why {
			t.Errorf("followChoice(e, %s) = %q, %q; want %q, %q", tt.hop, path, why, tt.path, tt.why)
		}
	}
}
