package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/lvs/config"
)

// The reload log says what happens to each changed [global] key.
func TestGlobalChangesLog(t *testing.T) {
	base := config.Global{PoolPollInterval: time.Second, DNSRefreshInterval: time.Minute}
	tests := []struct {
		name   string
		change func(*config.Global)
		want   string
	}{
		{"nothing", func(*config.Global) {}, ""},
		{"bgp-med", func(g *config.Global) { g.BGP.MED = 100 }, "[global] bgp-med changed: applied now to the services that do not set their own"},
		{"pool-poll-interval", func(g *config.Global) { g.PoolPollInterval = 2 * time.Second }, "[global] pool-poll-interval changed: applied now"},
		{"bgp peers", func(g *config.Global) { g.BGP.LocalASN = 64601 }, "[global] BGP session setting (bgp, bgp-local-asn, peers, next hops, communities, ...) changed: takes effect at the next restart"},
		{"dns-refresh-interval", func(g *config.Global) { g.DNSRefreshInterval = time.Hour }, "[global] dns-refresh-interval changed: takes effect at the next restart"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur := base
			tc.change(&cur)
			got := strings.Join(globalChanges(base, cur), "\n")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) || strings.Count(got, "[global]") > 1 {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
