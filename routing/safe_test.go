package routing

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestCheckChangeDefaultConfig(t *testing.T) {
	// The default configuration with a standby codfw backend for
	// appservers, so its route may be moved there.
	data, err := os.ReadFile("../config/routing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte("{eqiad: appservers.svc.eqiad.wmnet}"),
		[]byte("{eqiad: appservers.svc.eqiad.wmnet, codfw: appservers.svc.codfw.wmnet}"), 1)
	cfg, err := Parse("routing.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	// appservers routes to eqiad only; moved first, eqiad may go DOWN.
	moved, err := cfg.WithOverrides(Overrides{AppRoutes: apps("appservers", AppRouteSpec{Mode: Ordered, DCs: []string{"eqiad", "codfw"}})})
	if err != nil {
		t.Fatal(err)
	}
	bothDown := WithDown(nil, []string{"eqiad", "codfw"})
	tests := []struct {
		name       string
		cfg, next  *Config
		st, nextSt string // sites DOWN, comma-separated
		broken     []string
	}{
		{name: "esams DOWN", cfg: cfg, next: cfg, nextSt: "esams"},
		{name: "codfw DOWN", cfg: cfg, next: cfg, nextSt: "codfw"},
		{name: "eqiad and codfw DOWN", cfg: cfg, next: cfg, nextSt: "eqiad,codfw", broken: []string{
			"text/drmrs: unreachable (was ok), path drmrs: no usable choice", "text/eqsin", "text/esams", "text/magru", "text/ulsfo",
			"upload/drmrs", "upload/eqsin", "upload/esams", "upload/magru", "upload/ulsfo: unreachable (was ok), path ulsfo: no usable choice (codfw is DOWN (what-if))"}},
		{name: "eqiad DOWN leaves appservers without a DC", cfg: cfg, next: cfg, nextSt: "eqiad", broken: []string{
			"text/codfw: degraded (was ok), path codfw: appservers: every DC of the route is DOWN: eqiad is DOWN (what-if)",
			"text/drmrs", "text/eqsin", "text/esams", "text/magru", "text/ulsfo: degraded (was ok), path ulsfo > codfw: appservers"}},
		{name: "eqiad DOWN once appservers may use codfw", cfg: moved, next: moved, nextSt: "eqiad"},
		{name: "moving appservers to codfw while codfw is DOWN", cfg: cfg, next: mustOverride(t, cfg, Overrides{AppRoutes: apps("appservers",
			AppRouteSpec{Mode: Ordered, DCs: []string{"codfw"}})}), st: "codfw", nextSt: "codfw", broken: []string{
			"text/drmrs: degraded (was ok), path drmrs > esams > eqiad: appservers: every DC of the route is DOWN",
			"text/eqiad: degraded (was ok), path eqiad: appservers: every DC of the route is DOWN: codfw is DOWN (what-if)",
			"text/eqsin", "text/esams", "text/magru", "text/ulsfo"}},
		{name: "already unreachable is not refused again", cfg: cfg, next: cfg, st: "eqiad,codfw", nextSt: "eqiad,codfw,esams"},
		{name: "bringing sites back", cfg: cfg, next: cfg, st: "eqiad,codfw", nextSt: "eqiad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckChange(tt.cfg, WithDown(nil, sitesOf(tt.st)), tt.next, WithDown(nil, sitesOf(tt.nextSt)))
			checkBroken(t, err, tt.broken)
		})
	}
	if err := CheckChange(cfg, bothDown, cfg, bothDown); err != nil {
		t.Errorf("no change refused: %v", err)
	}
}

func mustOverride(t *testing.T, cfg *Config, ov Overrides) *Config {
	t.Helper()
	out, err := cfg.WithOverrides(ov)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sitesOf(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// checkBroken checks that err refuses exactly the routes of want, in
// order; each want is the start of the route's line.
func checkBroken(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	var ue *UnsafeError
	if !errors.As(err, &ue) {
		t.Fatalf("not refused: %v", err)
	}
	if len(ue.Broken) != len(want) {
		t.Fatalf("got %d broken routes, want %d:\n%v", len(ue.Broken), len(want), err)
	}
	for i, w := range want {
		if got := ue.Broken[i].String(); !strings.HasPrefix(got, w) {
			t.Errorf("broken %d: %q, want prefix %q", i, got, w)
		}
	}
}

func TestNewlyBroken(t *testing.T) {
	res := func(site, status string, entryDown bool, lost ...string) Result {
		r := Result{Cluster: "text", Site: site, Status: status, EntryDown: entryDown, Path: []string{site},
			Reasons: []Reason{{Site: site, Reason: ReasonConfigured, Detail: "why"}},
			Apps:    map[string]AppRoute{"a": {DC: "eqiad"}, "b": {DC: "eqiad"}}}
		for _, a := range lost {
			r.Apps[a] = AppRoute{Reason: ReasonUnreachable, Detail: a + " lost"}
		}
		return r
	}
	tests := []struct {
		name          string
		before, after []Result
		want          []string // Status/Before/Apps of each broken route
	}{
		{"ok to unreachable", []Result{res("x", "ok", false)}, []Result{res("x", "unreachable", false, "a", "b")}, []string{"unreachable/ok/[a b]"}},
		{"unreachable stays", []Result{res("x", "unreachable", false, "a", "b")}, []Result{res("x", "unreachable", false, "a", "b")}, nil},
		{"entry DOWN after", []Result{res("x", "ok", false)}, []Result{res("x", "unreachable", true, "a", "b")}, nil},
		{"ok to degraded", []Result{res("x", "ok", false)}, []Result{res("x", "degraded", false, "b")}, []string{"degraded/ok/[b]"}},
		{"degraded stays", []Result{res("x", "degraded", false, "a")}, []Result{res("x", "degraded", false, "a")}, nil},
		{"degraded loses another app", []Result{res("x", "degraded", false, "a")}, []Result{res("x", "degraded", false, "a", "b")}, []string{"degraded/degraded/[b]"}},
		{"unreachable to degraded", []Result{res("x", "unreachable", false, "a", "b")}, []Result{res("x", "degraded", false, "a")}, nil},
		{"new entry unreachable", nil, []Result{res("x", "unreachable", false, "a", "b")}, []string{"unreachable//[a b]"}},
		{"new entry degraded", nil, []Result{res("x", "degraded", false, "a")}, []string{"degraded//[a]"}},
		{"ok to shutdown", []Result{res("x", "ok", false)}, []Result{res("x", "shutdown", false)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, b := range NewlyBroken(tt.before, tt.after) {
				got = append(got, fmt.Sprintf("%s/%s/%v", b.Status, b.Before, b.Apps))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
