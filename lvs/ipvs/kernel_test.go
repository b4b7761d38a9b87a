package ipvs

import (
	"net/netip"
	"testing"

	cfipvs "github.com/cloudflare/ipvs"
)

func TestKernelServiceMapping(t *testing.T) {
	tests := []struct {
		svc       Service
		wantFlags cfipvs.Flags
		wantFam   cfipvs.AddressFamily
		wantProto cfipvs.Protocol
		wantMask  int
	}{
		{Service{Key: vipA, Scheduler: "wlc"}, 0, cfipvs.INET, cfipvs.TCP, 32},
		{Service{Key: vipA, Scheduler: "mh", MHPort: true}, cfipvs.ServiceSchedulerOpt2, cfipvs.INET, cfipvs.TCP, 32},
		{Service{Key: vipB, Scheduler: "mh", MHFallback: true, MHPort: true, OnePacket: true},
			cfipvs.ServiceSchedulerOpt1 | cfipvs.ServiceSchedulerOpt2 | cfipvs.ServiceOnePacket, cfipvs.INET6, cfipvs.UDP, 128},
	}
	for _, tc := range tests {
		t.Run(tc.svc.Key.String(), func(t *testing.T) {
			ks := toKernelService(tc.svc)
			if ks.Flags != tc.wantFlags || ks.Family != tc.wantFam || ks.Protocol != tc.wantProto || ks.Netmask.Bits() != tc.wantMask {
				t.Fatalf("got %+v", ks)
			}
			// The kernel adds the hashed flag; it must not read as a change.
			ks.Flags |= cfipvs.ServiceHashed
			back, ok := fromKernelService(ks)
			if !ok || back != tc.svc {
				t.Fatalf("round trip: %+v, want %+v", back, tc.svc)
			}
		})
	}
	if _, ok := fromKernelService(cfipvs.Service{FWMark: 7, Protocol: cfipvs.TCP}); ok {
		t.Error("fwmark service must be skipped")
	}
}

func TestKernelDestMapping(t *testing.T) {
	for _, f := range []Forward{DirectRoute, Tunnel, Masquerade, Local} {
		d := Destination{Addr: netip.MustParseAddr("2001:db8::5"), Port: 80, Weight: 3, Forward: f}
		kd := toKernelDest(d)
		if kd.Family != cfipvs.INET6 || fromKernelForward(kd.FwdMethod) != f {
			t.Errorf("%s: got %+v", f, kd)
		}
	}
	if f := fromKernelForward(cfipvs.Bypass); f == DirectRoute || f == Local {
		t.Errorf("bypass mapped to %s", f)
	}
}
