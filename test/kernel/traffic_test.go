//go:build kernelvm

package kernele2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

const conns = 30

// expectHits asserts exactly which servers answered: those in pooled got
// at least one connection, every other one none.
func expectHits(t *testing.T, got map[string]int, pooled ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, p := range pooled {
		want[p] = true
		if got[p] == 0 {
			t.Errorf("pooled server %s received no connection: %v", p, got)
		}
	}
	for name, n := range got {
		if !want[name] {
			t.Errorf("server %s is not pooled but received %d connections: %v", name, n, got)
		}
	}
}

func (l *lab) dest4(i int, port uint16, w uint32, f ipvs.Forward) ipvs.Destination {
	return ipvs.Destination{Addr: l.servers[i-1].addr4, Port: port, Weight: w, Forward: f}
}

func (l *lab) dest6(i int, port uint16, w uint32, f ipvs.Forward) ipvs.Destination {
	return ipvs.Destination{Addr: l.servers[i-1].addr6, Port: port, Weight: w, Forward: f}
}

// TestTrafficNAT sends real connections through a wlc masquerading service
// whose real servers listen on another port: pooled servers answer, a
// weight-0 (drained) and a removed one do not, and the kernel's counters,
// read through Status, show the connections.
func TestTrafficNAT(t *testing.T) {
	l := getLab(t)
	c := rawClient(t)
	flush(t, c)
	d := newDirector(t)
	svc := ipvs.Service{Key: key(ipvs.TCP, vipNAT4+":80"), Scheduler: "wlc"}

	reconcile(t, d, []ipvs.Desired{{Service: svc, Destinations: []ipvs.Destination{
		l.dest4(1, 8080, 1, ipvs.Masquerade), l.dest4(2, 8080, 1, ipvs.Masquerade), l.dest4(3, 8080, 0, ipvs.Masquerade),
	}}},
		"-A -t 192.0.2.10:80 -s wlc",
		"-a -t 192.0.2.10:80 -r 10.200.1.2:8080 -m -w 1",
		"-a -t 192.0.2.10:80 -r 10.200.2.2:8080 -m -w 1",
		"-a -t 192.0.2.10:80 -r 10.200.3.2:8080 -m -w 0")
	expectHits(t, l.hits(t, vipNAT4+":80", conns), "rs1", "rs2")
	waitCounters(t, d, svc.Key, map[string]bool{"10.200.1.2": true, "10.200.2.2": true, "10.200.3.2": false})

	// Depool rs1, repool rs3, and switch to rr: under wlc the fresh rs3
	// would rightly take every new connection until its count caught up
	// with rs2's, which says nothing about pooling.
	svc.Scheduler = "rr"
	reconcile(t, d, []ipvs.Desired{{Service: svc, Destinations: []ipvs.Destination{
		l.dest4(2, 8080, 1, ipvs.Masquerade), l.dest4(3, 8080, 2, ipvs.Masquerade),
	}}},
		"-E -t 192.0.2.10:80 -s rr",
		"-e -t 192.0.2.10:80 -r 10.200.3.2:8080 -m -w 2",
		"-d -t 192.0.2.10:80 -r 10.200.1.2:8080")
	expectHits(t, l.hits(t, vipNAT4+":80", conns), "rs2", "rs3")
}

// TestTrafficNATv6 does the same over IPv6.
func TestTrafficNATv6(t *testing.T) {
	l := getLab(t)
	c := rawClient(t)
	flush(t, c)
	d := newDirector(t)
	svc := ipvs.Service{Key: key(ipvs.TCP, "["+vipNAT6+"]:80"), Scheduler: "wlc"}
	reconcile(t, d, []ipvs.Desired{{Service: svc, Destinations: []ipvs.Destination{
		l.dest6(1, 8080, 1, ipvs.Masquerade), l.dest6(2, 8080, 0, ipvs.Masquerade), l.dest6(3, 8080, 1, ipvs.Masquerade),
	}}},
		"-A -t [2001:db8::10]:80 -s wlc",
		"-a -t [2001:db8::10]:80 -r [2001:db8:200:1::2]:8080 -m -w 1",
		"-a -t [2001:db8::10]:80 -r [2001:db8:200:2::2]:8080 -m -w 0",
		"-a -t [2001:db8::10]:80 -r [2001:db8:200:3::2]:8080 -m -w 1")
	expectHits(t, l.hits(t, "["+vipNAT6+"]:80", conns), "rs1", "rs3")
}

// TestTrafficDirectRouting sends connections through a Maglev (mh,
// mh-port) direct-routing service, PyBal's default forwarding: the real
// servers hold the VIP and answer the client directly through the
// director's routing.
func TestTrafficDirectRouting(t *testing.T) {
	l := getLab(t)
	c := rawClient(t)
	flush(t, c)
	d := newDirector(t)
	svc := ipvs.Service{Key: key(ipvs.TCP, vipDR4+":80"), Scheduler: "mh", MHPort: true, MHFallback: true}
	reconcile(t, d, []ipvs.Desired{{Service: svc, Destinations: []ipvs.Destination{
		l.dest4(1, 0, 1, ipvs.DirectRoute), l.dest4(2, 0, 1, ipvs.DirectRoute),
	}}},
		"-A -t 192.0.2.20:80 -s mh -b mh-fallback,mh-port",
		"-a -t 192.0.2.20:80 -r 10.200.1.2:80 -g -w 1",
		"-a -t 192.0.2.20:80 -r 10.200.2.2:80 -g -w 1")
	expectHits(t, l.hits(t, vipDR4+":80", conns), "rs1", "rs2")

	// Drain rs2 (weight 0), add rs3.
	reconcile(t, d, []ipvs.Desired{{Service: svc, Destinations: []ipvs.Destination{
		l.dest4(1, 0, 1, ipvs.DirectRoute), l.dest4(2, 0, 0, ipvs.DirectRoute), l.dest4(3, 0, 1, ipvs.DirectRoute),
	}}},
		"-a -t 192.0.2.20:80 -r 10.200.3.2:80 -g -w 1",
		"-e -t 192.0.2.20:80 -r 10.200.2.2:80 -g -w 0")
	expectHits(t, l.hits(t, vipDR4+":80", conns), "rs1", "rs3")
}

// waitCounters waits (the kernel's counters lag up to ~2 s) until Status
// shows connections on exactly the servers marked true.
func waitCounters(t *testing.T, d ipvs.Director, k ipvs.ServiceKey, want map[string]bool) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		st, err := d.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ok := true
		last = ""
		for _, s := range st {
			if s.Service.Key != k {
				continue
			}
			for _, ds := range s.Destinations {
				n := ds.ActiveConns + ds.InactiveConns
				last += fmt.Sprintf(" %s active=%d inactive=%d", ds.Addr, ds.ActiveConns, ds.InactiveConns)
				if (n > 0) != want[ds.Addr.String()] {
					ok = false
				}
			}
		}
		if ok && last != "" {
			t.Logf("counters:%s", last)
			return
		}
	}
	t.Fatalf("counters never matched %v; last:%s", want, last)
}

// TestTrafficUDPOnePacket sends datagrams from a single source port
// through a UDP direct-routing rr service. Without ops they all follow one
// IPVS connection entry to one server; once -o is set each datagram is
// scheduled on its own, so both pooled servers answer. The weight-0 server
// never does.
func TestTrafficUDPOnePacket(t *testing.T) {
	l := getLab(t)
	c := rawClient(t)
	flush(t, c)
	d := newDirector(t)
	svc := ipvs.Service{Key: key(ipvs.UDP, vipDR4+":53"), Scheduler: "rr"}
	dests := []ipvs.Destination{l.dest4(1, 0, 1, ipvs.DirectRoute), l.dest4(2, 0, 1, ipvs.DirectRoute), l.dest4(3, 0, 0, ipvs.DirectRoute)}
	reconcile(t, d, []ipvs.Desired{{Service: svc, Destinations: dests}},
		"-A -u 192.0.2.20:53 -s rr",
		"-a -u 192.0.2.20:53 -r 10.200.1.2:53 -g -w 1",
		"-a -u 192.0.2.20:53 -r 10.200.2.2:53 -g -w 1",
		"-a -u 192.0.2.20:53 -r 10.200.3.2:53 -g -w 0")
	if got := l.udpHits(t, vipDR4+":53", 10); len(got) != 1 || got["rs3"] != 0 {
		t.Errorf("without ops one source port must stick to one pooled server: %v", got)
	}

	svc.OnePacket = true
	reconcile(t, d, []ipvs.Desired{{Service: svc, Destinations: dests}}, "-E -u 192.0.2.20:53 -s rr -o")
	expectHits(t, l.udpHits(t, vipDR4+":53", 10), "rs1", "rs2")
}
