package ipvs

import (
	"net/netip"
	"testing"
)

func TestOpString(t *testing.T) {
	vip := ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 80}
	vip6 := ServiceKey{Protocol: UDP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 53}
	rs := Destination{Addr: netip.MustParseAddr("10.64.0.5"), Port: 80, Weight: 10, Forward: DirectRoute}
	rs6 := Destination{Addr: netip.MustParseAddr("2001:db8::5"), Port: 5353, Weight: 0, Forward: Masquerade}
	tests := []struct {
		name string
		op   Op
		want string
	}{
		{"add service", Op{Kind: AddService, Service: Service{Key: vip, Scheduler: "wlc"}}, "-A -t 10.2.2.1:80 -s wlc"},
		{"edit service", Op{Kind: EditService, Service: Service{Key: vip, Scheduler: "rr"}}, "-E -t 10.2.2.1:80 -s rr"},
		{"delete service", Op{Kind: DeleteService, Service: Service{Key: vip, Scheduler: "rr"}}, "-D -t 10.2.2.1:80"},
		{"mh flags in ipvsadm order", Op{Kind: AddService, Service: Service{Key: vip, Scheduler: "mh", MHPort: true, MHFallback: true}},
			"-A -t 10.2.2.1:80 -s mh -b mh-fallback,mh-port"},
		{"mh port only", Op{Kind: AddService, Service: Service{Key: vip, Scheduler: "mh", MHPort: true}}, "-A -t 10.2.2.1:80 -s mh -b mh-port"},
		{"sh flags", Op{Kind: AddService, Service: Service{Key: vip, Scheduler: "sh", MHFallback: true}}, "-A -t 10.2.2.1:80 -s sh -b sh-fallback"},
		{"udp ipv6 ops", Op{Kind: AddService, Service: Service{Key: vip6, Scheduler: "mh", MHFallback: true, OnePacket: true}},
			"-A -u [2001:db8::1]:53 -s mh -b mh-fallback -o"},
		{"add dest dr", Op{Kind: AddDest, Service: Service{Key: vip}, Destination: rs}, "-a -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 10"},
		{"edit dest tun", Op{Kind: EditDest, Service: Service{Key: vip}, Destination: Destination{Addr: rs.Addr, Port: 80, Weight: 3, Forward: Tunnel}},
			"-e -t 10.2.2.1:80 -r 10.64.0.5:80 -i -w 3"},
		{"nat weight 0 ipv6", Op{Kind: AddDest, Service: Service{Key: vip6}, Destination: rs6}, "-a -u [2001:db8::1]:53 -r [2001:db8::5]:5353 -m -w 0"},
		{"delete dest", Op{Kind: DeleteDest, Service: Service{Key: vip}, Destination: rs}, "-d -t 10.2.2.1:80 -r 10.64.0.5:80"},
		{"local prints as -g", Op{Kind: AddDest, Service: Service{Key: vip}, Destination: Destination{Addr: rs.Addr, Port: 80, Weight: 1, Forward: Local}},
			"-a -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.op.String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
