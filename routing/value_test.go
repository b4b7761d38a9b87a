package routing

import (
	"strings"
	"testing"
)

func TestParseRouteValue(t *testing.T) {
	tests := []struct {
		name, value string
		want        RouteSpec
		err         string // "" when the value is accepted; else in the error
	}{
		{"list", `{"route": ["codfw", "eqiad"]}`, RouteSpec{Choices: []string{"codfw", "eqiad"}}, ""},
		{"one site", `{"route": "codfw"}`, RouteSpec{Choices: []string{"codfw"}}, ""},
		{"direct", `{"route": "direct"}`, RouteSpec{Direct: true}, ""},
		{"pretty-printed", "{\n  \"route\": [\n    \"eqiad\"\n  ]\n}\n", RouteSpec{Choices: []string{"eqiad"}}, ""},
		{"unknown field", `{"route": "codfw", "weight": 3}`, RouteSpec{}, "weight: unknown field (expected route)"},
		{"missing route", `{}`, RouteSpec{}, "route: missing"},
		{"empty value", ``, RouteSpec{}, `empty value: expected {"route": ...}`},
		{"not an object", `["codfw"]`, RouteSpec{}, `expected a JSON object {"route": ...}`},
		{"syntax", `{"route": ["codfw"`, RouteSpec{}, "invalid JSON: "},
		{"two documents", "{\"route\": \"codfw\"}\n---\n{}\n", RouteSpec{}, "expected one JSON object, found more than one document"},
		{"duplicate field", `{"route": "codfw", "route": "eqiad"}`, RouteSpec{}, "route: duplicate key"},
		{"direct in a list", `{"route": ["codfw", "direct"]}`, RouteSpec{}, "route: `direct` must be the whole entry"},
		{"repeated choice", `{"route": ["codfw", "codfw"]}`, RouteSpec{}, `route: choice "codfw" is listed twice`},
		{"empty list", `{"route": []}`, RouteSpec{}, "route: empty list of choices"},
		{"null", `{"route": null}`, RouteSpec{}, "route: expected a name"},
		{"object", `{"route": {"active-active": ["eqiad"]}}`, RouteSpec{}, "route: expected `direct`, a site, or a list of sites"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRouteValue([]byte(tt.value))
			checkValue(t, err, tt.err, got.Equal(tt.want), got)
		})
	}
}

func TestParseAppRouteValue(t *testing.T) {
	tests := []struct {
		name, value string
		want        AppRouteSpec
		err         string
	}{
		{"one DC", `{"route": "eqiad"}`, AppRouteSpec{Mode: Ordered, DCs: []string{"eqiad"}}, ""},
		{"ordered", `{"route": ["eqiad", "codfw"]}`, AppRouteSpec{Mode: Ordered, DCs: []string{"eqiad", "codfw"}}, ""},
		{"active-active", `{"route": {"active-active": ["eqiad", "codfw"]}}`, AppRouteSpec{Mode: ActiveActive, DCs: []string{"eqiad", "codfw"}}, ""},
		{"unknown field", `{"route": "eqiad", "backends": {"eqiad": "x"}}`, AppRouteSpec{}, "backends: unknown field (expected route)"},
		{"unknown mode", `{"route": {"active-passive": ["eqiad"]}}`, AppRouteSpec{}, "route.active-passive: unknown key (expected active-active)"},
		{"extra key beside active-active", `{"route": {"active-active": ["eqiad"], "weight": 1}}`, AppRouteSpec{}, "route.weight: unknown key"},
		{"empty list", `{"route": []}`, AppRouteSpec{}, "route: expected a DC or a non-empty list of DCs"},
		{"repeated DC", `{"route": {"active-active": ["eqiad", "eqiad"]}}`, AppRouteSpec{}, `route.active-active: DC "eqiad" is listed twice`},
		{"missing route", `{"routes": "eqiad"}`, AppRouteSpec{}, "routes: unknown field"},
		{"syntax", `{"route": "eqiad"`, AppRouteSpec{}, "invalid JSON: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAppRouteValue([]byte(tt.value))
			checkValue(t, err, tt.err, got.Equal(tt.want), got)
		})
	}
}

// checkValue checks a value parser's answer: accepted with the wanted
// spec, or refused with an error that contains wantErr and, since the
// caller prepends the value's source, names no file or line of its own.
func checkValue(t *testing.T, err error, wantErr string, equal bool, got any) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("refused: %v", err)
	case wantErr == "" && !equal:
		t.Fatalf("got %+v", got)
	case wantErr == "":
	case err == nil:
		t.Fatalf("accepted: %+v", got)
	case !strings.Contains(err.Error(), wantErr):
		t.Fatalf("error %q lacks %q", err, wantErr)
	case strings.Contains(err.Error(), ":1:"):
		t.Fatalf("error %q carries a line", err)
	}
}

func TestValueRoundTrip(t *testing.T) {
	routes := []RouteSpec{{Direct: true}, {Choices: []string{"codfw"}}, {Choices: []string{"codfw", "eqiad"}}}
	for _, s := range routes {
		got, err := ParseRouteValue(s.Value())
		if err != nil || !got.Equal(s) {
			t.Errorf("%s: got %+v, %v", s.Value(), got, err)
		}
	}
	apps := []AppRouteSpec{{Mode: Ordered, DCs: []string{"eqiad"}}, {Mode: Ordered, DCs: []string{"eqiad", "codfw"}},
		{Mode: ActiveActive, DCs: []string{"eqiad"}}}
	for _, s := range apps {
		got, err := ParseAppRouteValue(s.Value())
		if err != nil || !got.Equal(s) {
			t.Errorf("%s: got %+v, %v", s.Value(), got, err)
		}
	}
	if got := string(RouteSpec{Choices: []string{"codfw", "eqiad"}}.Value()); got != `{"route":["codfw","eqiad"]}` {
		t.Errorf("Value() = %s", got)
	}
}
