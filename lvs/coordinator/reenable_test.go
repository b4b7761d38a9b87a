package coordinator

import (
	"strings"
	"testing"
)

// A re-enabled server that is down is pooled only when the depool
// threshold needs it, like any down server: one kept pooled while disabled
// (held) and down is depooled once it is enabled and enough others are up.
// Steps as in TestRemovalRespectsThreshold.
func TestReenabledDownServer(t *testing.T) {
	tests := []struct {
		name       string
		steps      []string
		pooled     string
		pooledDown string
	}{
		{name: "held, down, re-enabled with enough others up: depooled",
			steps: []string{"pool n n n n", "down mw01", "pool y y y y"}, pooled: "mw02 mw03 mw04"},
		{name: "held, down, re-enabled while the threshold needs it: pooled",
			steps: []string{"pool n n n n", "down mw01", "pool y n n n"}, pooled: "mw01 mw02", pooledDown: "mw01"},
		{name: "not pooled, down, re-enabled: stays out",
			steps: []string{"pool n y y y", "down mw01", "pool y y y y"}, pooled: "mw02 mw03 mw04"},
		{name: "re-enabled, then enough others up: depooled",
			steps: []string{"pool n n n n", "down mw01", "pool y n n n", "pool y y y n"}, pooled: "mw02 mw03"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, .5, false, hosts(4)...)
			for _, step := range tc.steps {
				verb, arg, _ := strings.Cut(step, " ")
				switch verb {
				case "pool":
					f.c.UpdatePool(poolOf(arg))
				case "down", "up":
					f.c.MonitorResult(arg, "ProxyFetch", verb == "up", "test")
				}
			}
			snap := f.c.Snapshot()
			if got := f.pooledHosts(); got != tc.pooled {
				t.Errorf("pooled %q, want %q\n%s", got, tc.pooled, f.log)
			}
			if got := strings.Join(snap.PooledDown, " "); got != tc.pooledDown {
				t.Errorf("pooled but down %q, want %q", got, tc.pooledDown)
			}
		})
	}
}
