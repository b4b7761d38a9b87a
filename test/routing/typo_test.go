package routinge2e

import (
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// A site/ line that matches no site (a typo) changes nothing, so it is
// warned about: on stderr by the CLI, and by serve in its log, /status and
// geotraffic_routing_warnings{file="admin_state"}.
func TestAdminStateTypoWarned(t *testing.T) {
	rp, ap := files(t, "site/cdfw => DOWN\n")
	want := ap + ":1: site/cdfw: matches no site of " + rp

	for _, cmd := range [][]string{
		{"routes", "--routing", rp, "--admin-state", ap},
		{"explain", "--routing", rp, "--admin-state", ap, "text", "ulsfo"},
		{"what-if", "--routing", rp, "--admin-state", ap, "--down", "esams"},
	} {
		_, stderr, code := run(t, cmd...)
		if code != 0 || !strings.Contains(stderr, "trafficctl: warning: "+want) {
			t.Errorf("%s: exit %d, stderr:\n%s", cmd[0], code, stderr)
		}
	}
	// check, with the authdns configuration's admin_state.
	_, stderr, _ := run(t, "check", "--routing", rp, "--authdns-config", authdnsConfig(t, "site/ulsfp => DOWN\n"))
	contains(t, "check stderr", stderr, "admin_state:1: site/ulsfp: matches no site of "+rp)

	testutil.WriteAtomic(t, ap, "")
	s := serve(t, "--routing", rp, "--admin-state", ap)
	testutil.WriteAtomic(t, ap, "site/codfw => DOWN\nsite/eqaid => DOWN\n")
	testutil.WaitFor(t, "the typo to be reported", func() bool {
		_, m := get(t, s.url+"/metrics")
		return strings.Contains(string(m), `geotraffic_routing_warnings{file="admin_state"} 1`)
	})
	_, st := get(t, s.url+"/status")
	contains(t, "/status", string(st), ap+":2: site/eqaid: matches no site of "+rp)
	contains(t, "serve log", s.logText(), `level=WARN msg="routing: warning: site/eqaid: matches no site of `+rp, "line=2")
}
