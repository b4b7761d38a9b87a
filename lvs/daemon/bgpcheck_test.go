package daemon

import (
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/prometheus/client_golang/prometheus"
)

const v4BGPConf = `[global]
pool-poll-interval = 0.02
bgp = yes
bgp-local-asn = 64600
bgp-peer-address = 127.0.0.1
bgp-nexthop-ipv4 = 127.0.0.1
NH6
[a]
protocol = tcp
ip = 10.2.2.1
port = 80
scheduler = rr
config = file://DIR/pool
`

const v6Service = `
[b]
protocol = tcp
ip = 2001:db8:2::1
port = 80
scheduler = rr
config = file://DIR/pool
`

// A reload adding an IPv6 VIP while the running [global] has no
// bgp-nexthop-ipv6 is refused with file:line (the new [global] would only
// apply at a restart), and nothing is applied.
func TestReloadRefusesVIPRunningBGPCannotAnnounce(t *testing.T) {
	h := startDaemon(t, strings.Replace(v4BGPConf, "NH6", "", 1))
	testutil.WriteAtomic(t, filepath.Join(h.dir, "pool"), line("127.0.0.2", 10, true))
	testutil.WaitFor(t, "v4 route", func() bool { return h.ann.prefixes() == "10.2.2.1/0" })
	testutil.WriteAtomic(t, h.conf, strings.ReplaceAll(strings.Replace(v4BGPConf, "NH6", "bgp-nexthop-ipv6 = 2001:db8::1", 1)+v6Service+
		"\n[c]\nprotocol = tcp\nip = 10.2.2.3\nport = 80\nscheduler = rr\nconfig = file://DIR/pool\n", "DIR", h.dir))
	err := h.d.Reload()
	if err == nil || !strings.Contains(err.Error(), "pybal.conf:17: ip:") || !strings.Contains(err.Error(), "bgp-nexthop-ipv6 is not set") {
		t.Fatalf("reload: %v", err)
	}
	if n := len(h.d.Pools()); n != 1 {
		t.Errorf("%d services after a refused reload, want 1", n)
	}
}

// A route the running BGP configuration cannot announce is left out (and
// logged once) instead of failing the whole set: the other VIPs are still
// announced.
func TestUnannounceableRouteLeftOut(t *testing.T) {
	var logBuf testutil.SyncBuffer
	h := startDaemonLog(t, strings.Replace(v4BGPConf, "NH6", "bgp-nexthop-ipv6 = 2001:db8::1", 1)+v6Service, slog.New(slog.NewTextHandler(&logBuf, nil)))
	testutil.WriteAtomic(t, filepath.Join(h.dir, "pool"), line("127.0.0.2", 10, true)+line("::1", 10, true))
	testutil.WaitFor(t, "both routes", func() bool { return h.ann.prefixes() == "10.2.2.1/0 2001:db8:2::1/0" })
	// As if the running configuration had no IPv6 next hop.
	h.d.mu.Lock()
	h.d.loaded.Config.Global.BGP.NextHopV6 = netip.Addr{}
	h.d.mu.Unlock()
	for range 3 {
		h.d.kick()
		testutil.WaitFor(t, "v6 route left out", func() bool { return h.ann.prefixes() == "10.2.2.1/0" })
	}
	if n := strings.Count(logBuf.String(), "BGP route left out"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logBuf.String())
	}
}

// pybal_bgp_enabled is exported as 0 when BGP is off, so Wikimedia's
// check_pybal_bgp reports OK rather than UNKNOWN.
func TestBGPEnabledMetricWhenOff(t *testing.T) {
	for _, tc := range []struct {
		name, global string
		announcer    bool
	}{
		{"bgp = no", "bgp = no\n", true},
		{"--no-bgp", "bgp = yes\nbgp-local-asn = 64600\nbgp-peer-address = 127.0.0.1\nbgp-nexthop-ipv4 = 127.0.0.1\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "pybal.conf")
			testutil.WriteAtomic(t, conf, "[global]\n"+tc.global)
			reg := prometheus.NewRegistry()
			opts := Options{ConfigPath: conf, Director: &fakeDirector{}, Registry: reg}
			if tc.announcer {
				opts.NewAnnouncer = func(c bgp.Config, l *slog.Logger, r prometheus.Registerer) (bgp.Announcer, error) {
					return bgp.New(c, l, r)
				}
			}
			if _, err := New(opts); err != nil {
				t.Fatal(err)
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if mf.GetName() == "pybal_bgp_enabled" {
					if v := mf.GetMetric()[0].GetGauge().GetValue(); v != 0 {
						t.Errorf("pybal_bgp_enabled = %v, want 0", v)
					}
					return
				}
			}
			t.Error("pybal_bgp_enabled not exported")
		})
	}
}
