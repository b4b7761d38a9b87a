package routing

import (
	"strconv"
	"strings"
	"testing"
)

func TestAdminStateWarnings(t *testing.T) {
	cfg := mustParse(t, seeds)
	tests := []struct {
		name, state string
		want        []string // "line key"
	}{
		{"known sites", "site/codfw => DOWN\nsite/eqiad => UP\n", nil},
		{"typo", "# outage\nsite/cdfw => DOWN\n", []string{"2 site/cdfw"}},
		{"glob matching a site", "site/e* => DOWN\nsite/[ce]*fw => DOWN\n", nil},
		{"glob matching none", "site/x* => DOWN\nsite/codfw => DOWN\n", []string{"1 site/x*"}},
		{"geoip keys are GeoDNS's", "geoip/*/cdfw => DOWN\n*/codfw => DOWN\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, w := range AdminStateWarnings(cfg, mustState(t, tt.state)) {
				got = append(got, strconv.Itoa(w.Pos.Line)+" "+w.Key)
				if !strings.Contains(w.Error(), "admin_state:") || !strings.Contains(w.Reason, "matches no site of routing.yaml") {
					t.Errorf("warning %q does not say where and why", w.Error())
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	if ws := AdminStateWarnings(cfg, nil); len(ws) != 0 {
		t.Fatalf("nil state: %v", ws)
	}
}
