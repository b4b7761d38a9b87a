package coordinator

import (
	"strings"
	"testing"
)

// Removing servers from the pool counts against the depool threshold like
// depooling them: a removed server leaves IPVS only while enough others
// are up (the total still counting it), else it stays pooled, reported,
// until enough others are up. Each step is "pool <states of mw01-mw04>"
// (see poolOf), "down HOST" or "up HOST".
func TestRemovalRespectsThreshold(t *testing.T) {
	tests := []struct {
		name      string
		threshold float64
		steps     []string
		pooled    string
		removed   string // kept pooled by the threshold
		forgotten string // told to OnForget
		log       string
	}{
		{name: "removing two healthy servers of four", threshold: .5, steps: []string{"pool - - y y"},
			pooled: "mw03 mw04", forgotten: "mw01 mw02", log: "Removing server mw01 (no longer found in new configuration)"},
		{name: "removing every server keeps the last one", threshold: .5, steps: []string{"pool - - - -"},
			pooled: "mw04", removed: "mw04", forgotten: "mw01 mw02 mw03",
			log: "Keeping removed server mw04 (enabled/up/pooled) pooled: 0 other servers up of 1 is below the depool threshold 0.5"},
		{name: "threshold .7: removing three of four keeps two", threshold: .7, steps: []string{"pool y - - -"},
			pooled: "mw01 mw03 mw04", removed: "mw03 mw04", forgotten: "mw02"},
		{name: "threshold 0 lets every server go", threshold: 0, steps: []string{"pool - - - -"}, forgotten: "mw01 mw02 mw03 mw04"},
		{name: "kept while the servers left are down", threshold: .5, steps: []string{"down mw03", "down mw04", "pool - - y y"},
			pooled: "mw01 mw02", removed: "mw01 mw02"},
		{name: "one leaves when another is up", threshold: .5, steps: []string{"down mw03", "down mw04", "pool - - y y", "up mw03"},
			pooled: "mw02 mw03", removed: "mw02", forgotten: "mw01"},
		{name: "all leave once enough are up", threshold: .5, steps: []string{"down mw03", "down mw04", "pool - - y y", "up mw03", "up mw04"},
			pooled: "mw03 mw04", forgotten: "mw01 mw02"},
		{name: "like a down server, a removed one that goes down stays while too many are down", threshold: .7,
			steps: []string{"pool y - - -", "down mw04"}, pooled: "mw01 mw03 mw04", removed: "mw03 mw04", forgotten: "mw02"},
		{name: "a server not pooled goes at once", threshold: .5, steps: []string{"down mw01", "pool - y y y"}, pooled: "mw02 mw03 mw04"},
		{name: "disabled servers held, then removed, stay while needed", threshold: .5, steps: []string{"pool n n n n", "pool - - - -"},
			pooled: "mw01 mw02", removed: "mw01 mw02"},
		{name: "listed again, a removed server is an ordinary one", threshold: .7, steps: []string{"pool y - - -", "pool y - y y"},
			pooled: "mw01 mw03 mw04", forgotten: "mw02"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.threshold, false, hosts(4)...)
			var forgotten []string
			f.c.OnForget(func(h []string) { forgotten = append(forgotten, h...) })
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
			if got := strings.Join(snap.Removed, " "); got != tc.removed {
				t.Errorf("removed but kept %q, want %q", got, tc.removed)
			}
			if got := strings.Join(forgotten, " "); got != tc.forgotten {
				t.Errorf("forgotten %q, want %q", got, tc.forgotten)
			}
			if !strings.Contains(f.log.String(), tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, f.log)
			}
			if n := len(f.c.Desired().Destinations); n != len(strings.Fields(tc.pooled)) {
				t.Errorf("%d destinations, want %d", n, len(strings.Fields(tc.pooled)))
			}
		})
	}
}
