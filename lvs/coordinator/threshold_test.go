package coordinator

import (
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/lvs/pool"
)

// poolOf builds a pool of the fixture's hosts (mw01...): "y" enabled, "n"
// disabled, "-" left out (removed), all at weight 10.
func poolOf(states string) pool.Pool {
	p := pool.Pool{}
	for i, st := range strings.Split(states, " ") {
		h := hosts(i + 1)[i]
		switch st {
		case "y":
			p[h] = pool.Server{Enabled: true, Weight: 10}
		case "n":
			p[h] = pool.Server{Enabled: false, Weight: 10}
		}
	}
	return p
}

func (f *fixture) pooledHosts() string {
	var out []string
	for _, s := range f.c.Snapshot().Servers {
		if s.Pooled {
			out = append(out, s.Host)
		}
	}
	return strings.Join(out, " ")
}

// Disabling servers through the pool source goes through the depool
// threshold: no pool change can leave fewer than total × threshold pooled;
// disabled servers kept for it are reported as held and released as soon
// as enough others are enabled (removals: removed_test.go).
func TestDisableRespectsThreshold(t *testing.T) {
	tests := []struct {
		name      string
		threshold float64
		updates   []string // successive pools of mw01-mw04
		pooled    string
		held      string
		log       string
	}{
		{name: "disabling one of four", threshold: .5, updates: []string{"n y y y"}, pooled: "mw02 mw03 mw04"},
		{name: "disabling all keeps threshold-many, those pooled before", threshold: .5, updates: []string{"n n n n"},
			pooled: "mw01 mw02", held: "mw01 mw02", log: "Keeping disabled server mw01 pooled: 0 pooled of 4 servers would be below the depool threshold 0.5"},
		{name: "one at a time ends the same", threshold: .5, updates: []string{"n y y y", "n n y y", "n n n y", "n n n n"},
			pooled: "mw03 mw04", held: "mw03 mw04"},
		{name: "threshold .7 of four needs three", threshold: .7, updates: []string{"n n n n"}, pooled: "mw01 mw02 mw03", held: "mw01 mw02 mw03"},
		{name: "re-enabling one releases one held", threshold: .5, updates: []string{"n n n n", "n n y n"}, pooled: "mw02 mw03", held: "mw02",
			log: "Depooling disabled server mw01: the depool threshold no longer needs it"},
		{name: "re-enabling all releases every held", threshold: .5, updates: []string{"n n n n", "y y y y"}, pooled: "mw01 mw02 mw03 mw04"},
		{name: "threshold 0 lets every server go", threshold: 0, updates: []string{"n n n n"}, pooled: ""},
		{name: "a server disabled before is forced only when needed", threshold: .5, updates: []string{"n y y y", "n n n y"},
			pooled: "mw02 mw04", held: "mw02"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.threshold, false, hosts(4)...)
			for _, u := range tc.updates {
				f.c.UpdatePool(poolOf(u))
			}
			snap := f.c.Snapshot()
			if got := f.pooledHosts(); got != tc.pooled {
				t.Errorf("pooled %q, want %q", got, tc.pooled)
			}
			if got := strings.Join(snap.Held, " "); got != tc.held {
				t.Errorf("held %q, want %q", got, tc.held)
			}
			if len(snap.PooledDown) != 0 {
				t.Errorf("pooled-down %v: every server is up", snap.PooledDown)
			}
			if !strings.Contains(f.log.String(), tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, f.log)
			}
			// Desired follows: the held servers are in IPVS at their weight.
			if n := len(f.c.Desired().Destinations); n != len(strings.Fields(tc.pooled)) {
				t.Errorf("%d destinations, want %d", n, len(strings.Fields(tc.pooled)))
			}
		})
	}
}

// A held server that goes down stays pooled while nothing else can take
// its place, and is reported as pooled-but-down as well as held.
func TestHeldServerDown(t *testing.T) {
	f := newFixture(t, .5, false, hosts(4)...)
	f.c.UpdatePool(poolOf("n n n n"))
	f.c.MonitorResult("mw01", "ProxyFetch", false, "x")
	snap := f.c.Snapshot()
	if got := f.pooledHosts(); got != "mw01 mw02" {
		t.Errorf("pooled %q", got)
	}
	if strings.Join(snap.PooledDown, " ") != "mw01" || strings.Join(snap.Held, " ") != "mw01 mw02" {
		t.Errorf("pooled-down %v held %v", snap.PooledDown, snap.Held)
	}
	if got := metricValue(t, f.c.metrics.pooledDown.WithLabelValues("text_443")); got != 1 {
		t.Errorf("pooled_down_servers = %v", got)
	}
	// Two servers enabled again: the held ones can go, the down one first.
	f.c.UpdatePool(poolOf("n n y y"))
	if got := f.pooledHosts(); got != "mw03 mw04" {
		t.Errorf("after re-enabling: pooled %q\n%s", got, f.log)
	}
}
