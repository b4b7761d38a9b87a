package ipvs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
)

// countingKernel wraps the in-memory kernel to count writes and inject
// failures.
type countingKernel struct {
	*memKernel
	writes int
	fail   func(Op) error
}

func (c *countingKernel) apply(op Op) error {
	c.writes++
	if c.fail != nil {
		if err := c.fail(op); err != nil {
			return err
		}
	}
	return c.memKernel.apply(op)
}

// seed loads a kernel state directly, as if another process had written it.
func seed(t *testing.T, m *memKernel, state []Desired) {
	t.Helper()
	for _, d := range state {
		if err := m.apply(Op{Kind: AddService, Service: d.Service}); err != nil {
			t.Fatal(err)
		}
		for _, dst := range d.Destinations {
			if err := m.apply(Op{Kind: AddDest, Service: d.Service, Destination: dst}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

var (
	vipA = ServiceKey{Protocol: TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 80}
	vipB = ServiceKey{Protocol: UDP, Addr: netip.MustParseAddr("2001:db8::1"), Port: 53}
)

func rs(addr string, port uint16, w uint32, f Forward) Destination {
	return Destination{Addr: netip.MustParseAddr(addr), Port: port, Weight: w, Forward: f}
}

func svcA(sched string, dests ...Destination) Desired {
	return Desired{Service: Service{Key: vipA, Scheduler: sched}, Destinations: dests}
}

func TestReconcileDiff(t *testing.T) {
	base := svcA("wlc", rs("10.64.0.5", 80, 10, DirectRoute), rs("10.64.0.6", 80, 10, DirectRoute))
	tests := []struct {
		name    string
		kernel  []Desired
		desired []Desired
		want    []string
	}{
		{"empty kernel", nil, []Desired{base}, []string{
			"-A -t 10.2.2.1:80 -s wlc",
			"-a -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 10",
			"-a -t 10.2.2.1:80 -r 10.64.0.6:80 -g -w 10",
		}},
		{"adopt unchanged", []Desired{base}, []Desired{base}, nil},
		{"defaults fill in: port, dr, wlc", []Desired{base}, []Desired{svcA("", rs("10.64.0.6", 0, 10, ""), rs("10.64.0.5", 0, 10, ""))}, nil},
		{"scheduler change", []Desired{base}, []Desired{svcA("rr", base.Destinations...)}, []string{"-E -t 10.2.2.1:80 -s rr"}},
		{"mh flags", []Desired{base}, []Desired{{Service: Service{Key: vipA, Scheduler: "mh", MHPort: true, MHFallback: true}, Destinations: base.Destinations}},
			[]string{"-E -t 10.2.2.1:80 -s mh -b mh-fallback,mh-port"}},
		{"weight and drain", []Desired{base}, []Desired{svcA("wlc", rs("10.64.0.5", 80, 0, DirectRoute), rs("10.64.0.6", 80, 20, DirectRoute))}, []string{
			"-e -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 0",
			"-e -t 10.2.2.1:80 -r 10.64.0.6:80 -g -w 20",
		}},
		{"dr and tun use the VIP port, as ipvsadm", []Desired{base}, []Desired{svcA("wlc", rs("10.64.0.5", 8080, 10, DirectRoute), rs("10.64.0.6", 8443, 10, ""))}, nil},
		{"nat to dr changes the port", []Desired{svcA("wlc", rs("10.64.0.5", 8080, 10, Masquerade))}, []Desired{svcA("wlc", rs("10.64.0.5", 8080, 10, DirectRoute))}, []string{
			"-a -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 10",
			"-d -t 10.2.2.1:80 -r 10.64.0.5:8080",
		}},
		{"forwarding change", []Desired{base}, []Desired{svcA("wlc", rs("10.64.0.5", 80, 10, Tunnel), rs("10.64.0.6", 80, 10, DirectRoute))},
			[]string{"-e -t 10.2.2.1:80 -r 10.64.0.5:80 -i -w 10"}},
		{"depool removes", []Desired{base}, []Desired{svcA("wlc", rs("10.64.0.6", 80, 10, DirectRoute))},
			[]string{"-d -t 10.2.2.1:80 -r 10.64.0.5:80"}},
		{"port change is add then delete", []Desired{base}, []Desired{svcA("wlc", rs("10.64.0.5", 8080, 10, Masquerade), rs("10.64.0.6", 80, 10, DirectRoute))}, []string{
			"-a -t 10.2.2.1:80 -r 10.64.0.5:8080 -m -w 10",
			"-d -t 10.2.2.1:80 -r 10.64.0.5:80",
		}},
		{"adds before edits before deletes", []Desired{base}, []Desired{svcA("wlc", rs("10.64.0.6", 80, 5, DirectRoute), rs("10.64.0.7", 80, 10, DirectRoute))}, []string{
			"-a -t 10.2.2.1:80 -r 10.64.0.7:80 -g -w 10",
			"-e -t 10.2.2.1:80 -r 10.64.0.6:80 -g -w 5",
			"-d -t 10.2.2.1:80 -r 10.64.0.5:80",
		}},
		{"kernel-local destination is not rewritten", []Desired{svcA("wlc", rs("10.64.0.5", 80, 10, Local))}, []Desired{svcA("wlc", rs("10.64.0.5", 80, 10, DirectRoute))}, nil},
		{"unconfigured service left alone", []Desired{{Service: Service{Key: vipB, Scheduler: "rr"}, Destinations: []Destination{rs("2001:db8::5", 53, 1, DirectRoute)}}}, []Desired{base}, []string{
			"-A -t 10.2.2.1:80 -s wlc",
			"-a -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 10",
			"-a -t 10.2.2.1:80 -r 10.64.0.6:80 -g -w 10",
		}},
		{"ipv6 udp ops", nil, []Desired{{Service: Service{Key: vipB, Scheduler: "mh", MHFallback: true, OnePacket: true}, Destinations: []Destination{rs("2001:db8::5", 0, 1, "")}}}, []string{
			"-A -u [2001:db8::1]:53 -s mh -b mh-fallback -o",
			"-a -u [2001:db8::1]:53 -r [2001:db8::5]:53 -g -w 1",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := &countingKernel{memKernel: newMemKernel()}
			seed(t, k.memKernel, tc.kernel)
			r := newReconciler(k, nil, false)
			ctx := context.Background()
			ops, err := r.Reconcile(ctx, tc.desired)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(opStrings(ops), "\n"); got != strings.Join(tc.want, "\n") {
				t.Fatalf("ops:\n%s\nwant:\n%s", got, strings.Join(tc.want, "\n"))
			}
			if k.writes != len(tc.want) {
				t.Fatalf("%d writes for %d ops", k.writes, len(tc.want))
			}
			// Converged: a second pass, and a fresh reconciler adopting
			// the same kernel (a restart), write nothing.
			for _, r := range []*reconciler{r, newReconciler(k, nil, false)} {
				k.writes = 0
				if ops, err := r.Reconcile(ctx, tc.desired); err != nil || k.writes != 0 {
					t.Fatalf("not converged: ops %v, err %v, %d writes", opStrings(ops), err, k.writes)
				}
			}
		})
	}
}

func TestReconcileRejectsBadInputWithoutWriting(t *testing.T) {
	ok := rs("10.64.0.5", 80, 1, DirectRoute)
	tests := []struct {
		name    string
		desired []Desired
		wantErr string
	}{
		{"scheduler", []Desired{svcA("fast", ok)}, `unknown scheduler "fast"`},
		{"ops on tcp", []Desired{{Service: Service{Key: vipA, Scheduler: "wlc", OnePacket: true}}}, "UDP only"},
		{"mh flags on wlc", []Desired{{Service: Service{Key: vipA, Scheduler: "wlc", MHPort: true}}}, "need scheduler mh"},
		{"duplicate service", []Desired{svcA("wlc"), svcA("rr")}, "listed twice"},
		{"duplicate real server", []Desired{svcA("wlc", ok, rs("10.64.0.5", 0, 3, ""))}, "10.64.0.5:80 listed twice"},
		{"family mismatch", []Desired{svcA("wlc", rs("2001:db8::5", 80, 1, DirectRoute))}, "address family"},
		{"forwarding", []Desired{svcA("wlc", rs("10.64.0.5", 80, 1, "bridge"))}, `forwarding "bridge"`},
		{"protocol", []Desired{{Service: Service{Key: ServiceKey{Protocol: "sctp", Addr: vipA.Addr, Port: 80}}}}, "protocol"},
		{"port 0", []Desired{{Service: Service{Key: ServiceKey{Protocol: TCP, Addr: vipA.Addr}}}}, "port 0"},
		// a valid service first: nothing of it may be written either
		{"second service bad", []Desired{{Service: Service{Key: vipB, Scheduler: "rr"}}, svcA("bogus")}, "unknown scheduler"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := &countingKernel{memKernel: newMemKernel()}
			_, err := newReconciler(k, nil, false).Reconcile(context.Background(), tc.desired)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if k.writes != 0 {
				t.Fatalf("%d writes on bad input", k.writes)
			}
		})
	}
}

func TestReconcileContinuesPastFailedWrite(t *testing.T) {
	boom := errors.New("invalid argument")
	k := &countingKernel{memKernel: newMemKernel(), fail: func(op Op) error {
		if op.Destination.Addr == netip.MustParseAddr("10.64.0.5") {
			return boom
		}
		return nil
	}}
	r := newReconciler(k, nil, false)
	desired := []Desired{
		svcA("wlc", rs("10.64.0.5", 80, 1, DirectRoute), rs("10.64.0.6", 80, 1, DirectRoute)),
		{Service: Service{Key: vipB, Scheduler: "rr"}, Destinations: []Destination{rs("2001:db8::5", 53, 1, DirectRoute)}},
	}
	ops, err := r.Reconcile(context.Background(), desired)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "-a -t 10.2.2.1:80 -r 10.64.0.5:80") {
		t.Fatalf("err %v, want the failed op wrapped", err)
	}
	if len(ops) != 4 { // both services, .6 and the IPv6 server
		t.Fatalf("applied %v", opStrings(ops))
	}
	// Once the cause is gone the next pass repairs only what is missing.
	k.fail = nil
	ops, err = r.Reconcile(context.Background(), desired)
	if err != nil || strings.Join(opStrings(ops), "|") != "-a -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 1" {
		t.Fatalf("repair: %v %v", opStrings(ops), err)
	}
}

func TestUnconfiguredServiceLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	k := &countingKernel{memKernel: newMemKernel()}
	seed(t, k.memKernel, []Desired{{Service: Service{Key: vipB, Scheduler: "rr"}}})
	r := newReconciler(k, slog.New(slog.NewTextHandler(&buf, nil)), false)
	for range 3 {
		if _, err := r.Reconcile(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), "left alone"); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, buf.String())
	}
	if k.writes != 0 {
		t.Fatalf("%d writes to a foreign service", k.writes)
	}
}

func TestRemoveService(t *testing.T) {
	k := &countingKernel{memKernel: newMemKernel()}
	seed(t, k.memKernel, []Desired{svcA("wlc", rs("10.64.0.5", 80, 1, DirectRoute))})
	r := newReconciler(k, nil, false)
	ctx := context.Background()
	if err := r.RemoveService(ctx, vipA); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveService(ctx, vipA); err != nil {
		t.Fatalf("absent service: %v", err)
	}
	st, err := r.Status(ctx)
	if err != nil || len(st) != 0 || k.writes != 1 {
		t.Fatalf("status %v err %v writes %d", st, err, k.writes)
	}
}

func TestStatusSortedWithCounters(t *testing.T) {
	m := newMemKernel()
	seed(t, m, []Desired{
		{Service: Service{Key: vipB, Scheduler: "rr"}},
		svcA("wlc", rs("10.64.0.6", 80, 1, DirectRoute), rs("10.64.0.5", 80, 1, DirectRoute)),
	})
	d := m.svcs[vipA].dests[netip.MustParseAddrPort("10.64.0.5:80")]
	d.ActiveConns, d.InactiveConns = 7, 3
	m.svcs[vipA].dests[d.id()] = d
	st, err := newReconciler(m, nil, false).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 || st[0].Service.Key != vipA || st[1].Service.Key != vipB {
		t.Fatalf("order: %+v", st)
	}
	if ds := st[0].Destinations; len(ds) != 2 || ds[0].Addr.String() != "10.64.0.5" || ds[0].ActiveConns != 7 || ds[0].InactiveConns != 3 {
		t.Fatalf("destinations: %+v", ds)
	}
}
