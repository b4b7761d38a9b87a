package status

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/lvs/instrumentation"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

func dest(ip string, w, act, inact uint32) ipvs.DestinationStatus {
	return ipvs.DestinationStatus{Destination: ipvs.Destination{Addr: netip.MustParseAddr(ip), Port: 80, Weight: w, Forward: ipvs.DirectRoute},
		ActiveConns: act, InactiveConns: inact}
}

func nat(d ipvs.DestinationStatus) ipvs.DestinationStatus {
	d.Forward = ipvs.Masquerade
	return d
}

func svc(sched string, d ...ipvs.DestinationStatus) ipvs.ServiceStatus {
	return ipvs.ServiceStatus{Service: ipvs.Service{Key: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 80}, Scheduler: sched},
		Destinations: d}
}

func udp(s ipvs.ServiceStatus) ipvs.ServiceStatus {
	s.Service.Key.Protocol = ipvs.UDP
	return s
}

func TestSuspicious(t *testing.T) {
	tests := []struct {
		name string
		s    ipvs.ServiceStatus
		want string
	}{
		{"refusing under wlc", svc("wlc", dest("10.0.0.1", 10, 200, 500), dest("10.0.0.2", 10, 210, 480), dest("10.0.0.3", 10, 3, 490)), "10.0.0.3"},
		{"weights taken into account", svc("wlc", dest("10.0.0.1", 10, 200, 500), dest("10.0.0.2", 1, 20, 50)), ""},
		{"DR without the VIP under wrr", svc("wrr", dest("10.0.0.1", 10, 200, 500), dest("10.0.0.2", 10, 210, 480), dest("10.0.0.3", 10, 230, 2)), "10.0.0.3"},
		{"DR without the VIP under sh", svc("sh", dest("10.0.0.1", 10, 200, 500), dest("10.0.0.2", 10, 210, 480), dest("10.0.0.3", 10, 230, 2)), "10.0.0.3"},
		{"an uneven share of clients under sh is no signature", svc("sh", dest("10.0.0.1", 10, 200, 500), dest("10.0.0.2", 10, 210, 480), dest("10.0.0.3", 10, 8, 20)), ""},
		{"UDP is not judged", udp(svc("rr", dest("10.0.0.1", 10, 200, 500), dest("10.0.0.2", 10, 210, 480), dest("10.0.0.3", 10, 230, 2))), ""},
		{"idle server with few inactive is just idle", svc("lc", dest("10.0.0.1", 1, 200, 500), dest("10.0.0.2", 1, 210, 480), dest("10.0.0.3", 1, 3, 10)), ""},
		{"too little traffic", svc("lc", dest("10.0.0.1", 1, 3, 5), dest("10.0.0.2", 1, 0, 5)), ""},
		{"drained (weight 0) ignored", svc("wlc", dest("10.0.0.1", 10, 200, 500), dest("10.0.0.2", 10, 210, 480), dest("10.0.0.3", 0, 0, 490)), ""},
		{"refusing under NAT", svc("wlc", nat(dest("10.0.0.1", 10, 200, 500)), nat(dest("10.0.0.2", 10, 210, 480)), nat(dest("10.0.0.3", 10, 3, 490))), "10.0.0.3"},
		// Unanswered SYNs count as active since Linux 4.8 and never close.
		{"DR without the VIP", svc("wlc", dest("10.0.0.1", 10, 200, 500), dest("10.0.0.2", 10, 210, 480), dest("10.0.0.3", 10, 230, 2)), "10.0.0.3"},
		{"DR without the VIP, weights", svc("wlc", dest("10.0.0.1", 10, 60, 500), dest("10.0.0.2", 2, 12, 100), dest("10.0.0.3", 1, 8, 0)), "10.0.0.3"},
		{"NAT sees replies: few inactive is not that", svc("wlc", nat(dest("10.0.0.1", 10, 200, 500)), nat(dest("10.0.0.2", 10, 210, 480)), nat(dest("10.0.0.3", 10, 230, 2))), ""},
		{"long-lived connections everywhere", svc("wlc", dest("10.0.0.1", 10, 200, 4), dest("10.0.0.2", 10, 210, 3), dest("10.0.0.3", 10, 230, 0)), ""},
		{"few inactive and few active is idle", svc("wlc", dest("10.0.0.1", 10, 200, 500), dest("10.0.0.2", 10, 210, 480), dest("10.0.0.3", 10, 40, 2)), ""},
	}
	for _, tc := range tests {
		var got []string
		for a := range Suspicious(tc.s) {
			got = append(got, a.String())
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s: got %v, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRender(t *testing.T) {
	pools := []Pool{{Name: "text_80", Key: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 80},
		Servers: map[string]instrumentation.ServerState{
			"mw1": {Pooled: true, Up: true, Enabled: true, Weight: 10, Address: "10.0.0.1"},
			"mw2": {Pooled: true, Up: true, Enabled: true, Weight: 10, Address: "10.0.0.2"},
			"mw3": {Pooled: true, Up: true, Enabled: true, Weight: 10, Address: "10.0.0.3"},
			"mw4": {Pooled: false, Up: false, Enabled: true, Weight: 10, Address: "10.0.0.4"},
			"mw5": {Enabled: true, Weight: 10},
		}}}
	kernel := []ipvs.ServiceStatus{svc("wlc", dest("10.0.0.1", 10, 200, 500), dest("10.0.0.2", 10, 210, 480), dest("10.0.0.3", 10, 3, 490)),
		{Service: ipvs.Service{Key: ipvs.ServiceKey{Protocol: ipvs.UDP, Addr: netip.MustParseAddr("10.9.9.9"), Port: 53}, Scheduler: "rr"}}}
	var b strings.Builder
	if err := Render(&b, pools, kernel); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"ActiveConn InActConn",
		"TCP  10.2.2.1:80 wlc",
		"[text_80]",
		"-> 10.0.0.1:80",
		"Route   10     200        500        mw1  enabled/up/pooled",
		"mw3  enabled/up/pooled  << " + SuspiciousNote,
		"-- 10.0.0.4",
		"mw4  enabled/down/not pooled",
		"-- (unresolved)",
		"UDP  10.9.9.9:53 rr",
		"(not managed by lvsd)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "refusing") != 1 {
		t.Errorf("flag count:\n%s", out)
	}
}
