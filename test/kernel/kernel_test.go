//go:build kernelvm

package kernele2e

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	cfipvs "github.com/cloudflare/ipvs"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

func TestMain(m *testing.M) {
	// These tests rewrite the kernel's IPVS table and create namespaces:
	// refuse to run anywhere but in the VM that run.sh boots.
	if os.Getenv("GEOTRAFFIC_KERNEL_VM") != "1" {
		os.Stderr.WriteString("test/kernel runs inside the VM only: make test-kernel\n")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// newDirector opens a kernel Director logging to the test.
func newDirector(t *testing.T) ipvs.Director {
	t.Helper()
	d, err := ipvs.NewKernel(slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// rawClient is a second, independent netlink client: it plays the operator
// or another tool changing IPVS behind the reconciler's back.
func rawClient(t *testing.T) cfipvs.Client {
	t.Helper()
	c, err := cfipvs.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cl, ok := c.(io.Closer); ok {
			cl.Close()
		}
	})
	return c
}

// flush empties the IPVS table, like `ipvsadm -C`.
func flush(t *testing.T, c cfipvs.Client) {
	t.Helper()
	svcs, err := c.Services()
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs {
		if err := c.RemoveService(s.Service); err != nil {
			t.Fatalf("flush %v: %v", s.Address, err)
		}
	}
}

func rawServices(t *testing.T, c cfipvs.Client) []cfipvs.ServiceExtended {
	t.Helper()
	svcs, err := c.Services()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return svcs
}

func rawDests(t *testing.T, c cfipvs.Client, s cfipvs.Service) []cfipvs.DestinationExtended {
	t.Helper()
	ds, err := c.Destinations(s)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func rawService(t *testing.T, c cfipvs.Client, k ipvs.ServiceKey) (cfipvs.Service, bool) {
	t.Helper()
	for _, s := range rawServices(t, c) {
		proto := ipvs.TCP
		if s.Protocol == cfipvs.UDP {
			proto = ipvs.UDP
		}
		if s.FWMark == 0 && s.Address == k.Addr && s.Port == k.Port && proto == k.Protocol {
			return s.Service, true
		}
	}
	return cfipvs.Service{}, false
}

func key(proto ipvs.Protocol, addrPort string) ipvs.ServiceKey {
	ap := netip.MustParseAddrPort(addrPort)
	return ipvs.ServiceKey{Protocol: proto, Addr: ap.Addr(), Port: ap.Port()}
}

func dest(addrPort string, w uint32, f ipvs.Forward) ipvs.Destination {
	ap := netip.MustParseAddrPort(addrPort)
	return ipvs.Destination{Addr: ap.Addr(), Port: ap.Port(), Weight: w, Forward: f}
}

func opStrings(ops []ipvs.Op) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = o.String()
	}
	return out
}

// reconcile runs Reconcile and checks the ops it reports applying.
func reconcile(t *testing.T, d ipvs.Director, desired []ipvs.Desired, want ...string) {
	t.Helper()
	ops, err := d.Reconcile(t.Context(), desired)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if got := opStrings(ops); !slices.Equal(got, want) {
		t.Fatalf("reconcile ops:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// checkKernel compares the kernel's table, read through the raw client,
// with desired (schedulers, scheduler flags, ops, destinations with port,
// weight and forwarding method).
func checkKernel(t *testing.T, c cfipvs.Client, desired []ipvs.Desired) {
	t.Helper()
	const managedFlags = cfipvs.ServiceOnePacket | cfipvs.ServiceSchedulerOpt1 | cfipvs.ServiceSchedulerOpt2
	for _, want := range desired {
		s, ok := rawService(t, c, want.Service.Key)
		if !ok {
			t.Fatalf("%s: not in the kernel", want.Service.Key)
		}
		var flags cfipvs.Flags
		if want.Service.OnePacket {
			flags |= cfipvs.ServiceOnePacket
		}
		if want.Service.MHFallback {
			flags |= cfipvs.ServiceSchedulerOpt1
		}
		if want.Service.MHPort {
			flags |= cfipvs.ServiceSchedulerOpt2
		}
		if s.Scheduler != want.Service.Scheduler || s.Flags&managedFlags != flags {
			t.Errorf("%s: kernel has scheduler %s flags %v, want %s %v", want.Service.Key, s.Scheduler, s.Flags, want.Service.Scheduler, flags)
		}
		got := map[netip.AddrPort]cfipvs.DestinationExtended{}
		for _, d := range rawDests(t, c, s) {
			got[netip.AddrPortFrom(d.Address, d.Port)] = d
		}
		if len(got) != len(want.Destinations) {
			t.Errorf("%s: kernel has %d destinations, want %d", want.Service.Key, len(got), len(want.Destinations))
		}
		fwd := map[ipvs.Forward]cfipvs.ForwardType{ipvs.DirectRoute: cfipvs.DirectRoute, ipvs.Tunnel: cfipvs.Tunnel, ipvs.Masquerade: cfipvs.Masquerade}
		for _, wd := range want.Destinations {
			kd, ok := got[netip.AddrPortFrom(wd.Addr, wd.Port)]
			switch {
			case !ok:
				t.Errorf("%s: destination %s:%d missing", want.Service.Key, wd.Addr, wd.Port)
			case kd.Weight != wd.Weight || kd.FwdMethod != fwd[wd.Forward]:
				t.Errorf("%s: destination %s:%d has weight %d fwd %v, want %d %v", want.Service.Key, wd.Addr, wd.Port, kd.Weight, kd.FwdMethod, wd.Weight, fwd[wd.Forward])
			}
		}
	}
}

var (
	webV4  = key(ipvs.TCP, "192.0.2.10:80")
	mhV4   = key(ipvs.TCP, "192.0.2.11:443")
	dnsUDP = key(ipvs.UDP, "192.0.2.10:53")
	webV6  = key(ipvs.TCP, "[2001:db8::10]:80")
)

// fullConfig covers the schedulers wlc, mh (with both flags) and rr with
// ops, a weight-0 drain, all three forwarding methods, a real-server port
// different from the VIP's, UDP and IPv6.
func fullConfig() []ipvs.Desired {
	return []ipvs.Desired{
		{Service: ipvs.Service{Key: webV4, Scheduler: "wlc"}, Destinations: []ipvs.Destination{
			dest("198.51.100.1:80", 10, ipvs.DirectRoute),
			dest("198.51.100.2:80", 0, ipvs.DirectRoute),
			dest("198.51.100.3:8080", 5, ipvs.Masquerade),
		}},
		{Service: ipvs.Service{Key: mhV4, Scheduler: "mh", MHPort: true, MHFallback: true}, Destinations: []ipvs.Destination{
			dest("198.51.100.1:443", 1, ipvs.Tunnel),
			dest("198.51.100.2:443", 1, ipvs.Tunnel),
		}},
		{Service: ipvs.Service{Key: dnsUDP, Scheduler: "rr", OnePacket: true}, Destinations: []ipvs.Destination{
			dest("198.51.100.1:53", 1, ipvs.DirectRoute),
		}},
		{Service: ipvs.Service{Key: webV6, Scheduler: "wlc"}, Destinations: []ipvs.Destination{
			dest("[2001:db8:1::1]:80", 3, ipvs.DirectRoute),
			dest("[2001:db8:1::2]:80", 0, ipvs.DirectRoute),
		}},
	}
}

var fullConfigOps = []string{
	"-A -t 192.0.2.10:80 -s wlc",
	"-a -t 192.0.2.10:80 -r 198.51.100.1:80 -g -w 10",
	"-a -t 192.0.2.10:80 -r 198.51.100.2:80 -g -w 0",
	"-a -t 192.0.2.10:80 -r 198.51.100.3:8080 -m -w 5",
	"-A -t 192.0.2.11:443 -s mh -b mh-fallback,mh-port",
	"-a -t 192.0.2.11:443 -r 198.51.100.1:443 -i -w 1",
	"-a -t 192.0.2.11:443 -r 198.51.100.2:443 -i -w 1",
	"-A -u 192.0.2.10:53 -s rr -o",
	"-a -u 192.0.2.10:53 -r 198.51.100.1:53 -g -w 1",
	"-A -t [2001:db8::10]:80 -s wlc",
	"-a -t [2001:db8::10]:80 -r [2001:db8:1::1]:80 -g -w 3",
	"-a -t [2001:db8::10]:80 -r [2001:db8:1::2]:80 -g -w 0",
}

func TestReconcileCreatesAndConverges(t *testing.T) {
	c := rawClient(t)
	flush(t, c)
	d := newDirector(t)
	cfg := fullConfig()

	reconcile(t, d, cfg, fullConfigOps...)
	checkKernel(t, c, cfg)
	reconcile(t, d, cfg) // unchanged: no writes

	// Status reads back the same table.
	st, err := d.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(cfg) {
		t.Fatalf("status lists %d services, want %d", len(st), len(cfg))
	}
	for _, s := range st {
		i := slices.IndexFunc(cfg, func(x ipvs.Desired) bool { return x.Service.Key == s.Service.Key })
		if i < 0 || s.Service != cfg[i].Service || len(s.Destinations) != len(cfg[i].Destinations) {
			t.Errorf("status %+v does not match %+v", s, cfg[i])
		}
	}

	// Changes apply as the minimal set of ops.
	cfg[0].Service.Scheduler = "rr"
	cfg[0].Destinations = []ipvs.Destination{
		dest("198.51.100.1:80", 0, ipvs.DirectRoute),  // drain
		dest("198.51.100.2:80", 7, ipvs.DirectRoute),  // repool with a weight
		dest("198.51.100.3:8081", 5, ipvs.Masquerade), // port change
		dest("198.51.100.4:80", 1, ipvs.Tunnel),       // new
	}
	cfg[1].Service.MHFallback = false
	cfg[1].Destinations = cfg[1].Destinations[:1] // depool
	cfg[1].Destinations[0].Forward = ipvs.DirectRoute
	reconcile(t, d, cfg,
		"-E -t 192.0.2.10:80 -s rr",
		"-a -t 192.0.2.10:80 -r 198.51.100.3:8081 -m -w 5",
		"-a -t 192.0.2.10:80 -r 198.51.100.4:80 -i -w 1",
		"-e -t 192.0.2.10:80 -r 198.51.100.1:80 -g -w 0",
		"-e -t 192.0.2.10:80 -r 198.51.100.2:80 -g -w 7",
		"-d -t 192.0.2.10:80 -r 198.51.100.3:8080",
		"-E -t 192.0.2.11:443 -s mh -b mh-port",
		"-e -t 192.0.2.11:443 -r 198.51.100.1:443 -g -w 1",
		"-d -t 192.0.2.11:443 -r 198.51.100.2:443",
	)
	checkKernel(t, c, cfg)
	reconcile(t, d, cfg)
}

func TestRestartAdoptsKernelState(t *testing.T) {
	c := rawClient(t)
	flush(t, c)
	cfg := fullConfig()
	first := newDirector(t)
	reconcile(t, first, cfg, fullConfigOps...)
	first.Close()

	// A new Director (lvsd restarted) over the same kernel state writes
	// nothing: no flush, existing connections survive.
	second := newDirector(t)
	reconcile(t, second, cfg)
	checkKernel(t, c, cfg)
}

func TestDriftRepair(t *testing.T) {
	c := rawClient(t)
	flush(t, c)
	d := newDirector(t)
	cfg := fullConfig()
	reconcile(t, d, cfg, fullConfigOps...)

	// Behind the reconciler's back: a real server deleted, a weight
	// changed, a whole service deleted and a scheduler changed.
	web, _ := rawService(t, c, webV4)
	mh, _ := rawService(t, c, mhV4)
	v6, _ := rawService(t, c, webV6)
	must(t, c.RemoveDestination(web, cfipvs.Destination{Address: netip.MustParseAddr("198.51.100.1"), Port: 80, Family: cfipvs.INET}))
	must(t, c.UpdateDestination(web, cfipvs.Destination{Address: netip.MustParseAddr("198.51.100.2"), Port: 80, Family: cfipvs.INET, Weight: 9, FwdMethod: cfipvs.DirectRoute}))
	must(t, c.RemoveService(mh))
	v6.Scheduler = "rr"
	must(t, c.UpdateService(v6))

	reconcile(t, d, cfg,
		"-a -t 192.0.2.10:80 -r 198.51.100.1:80 -g -w 10",
		"-e -t 192.0.2.10:80 -r 198.51.100.2:80 -g -w 0",
		"-A -t 192.0.2.11:443 -s mh -b mh-fallback,mh-port",
		"-a -t 192.0.2.11:443 -r 198.51.100.1:443 -i -w 1",
		"-a -t 192.0.2.11:443 -r 198.51.100.2:443 -i -w 1",
		"-E -t [2001:db8::10]:80 -s wlc",
	)
	checkKernel(t, c, cfg)
	reconcile(t, d, cfg)
	// Each change undone is reported with the op that restored it.
	rep := d.(ipvs.DriftReporter).Drift()
	var got []string
	for _, r := range rep.Recent {
		got = append(got, r.Undone.String()+" => "+r.Restored.String())
	}
	want := []string{
		"-d -t 192.0.2.10:80 -r 198.51.100.1:80 => -a -t 192.0.2.10:80 -r 198.51.100.1:80 -g -w 10",
		"-e -t 192.0.2.10:80 -r 198.51.100.2:80 -g -w 9 => -e -t 192.0.2.10:80 -r 198.51.100.2:80 -g -w 0",
		"-D -t 192.0.2.11:443 => -A -t 192.0.2.11:443 -s mh -b mh-fallback,mh-port",
		"-E -t [2001:db8::10]:80 -s rr => -E -t [2001:db8::10]:80 -s wlc",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("drift repairs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// `ipvsadm -C`: everything comes back.
	flush(t, c)
	reconcile(t, d, cfg, fullConfigOps...)
	reconcile(t, d, cfg)
}

func TestForeignServiceLeftAloneAndRemoveService(t *testing.T) {
	c := rawClient(t)
	flush(t, c)
	foreign := cfipvs.Service{Address: netip.MustParseAddr("192.0.2.99"), Port: 25, Protocol: cfipvs.TCP, Family: cfipvs.INET,
		Scheduler: "lc", Netmask: hostMask4}
	must(t, c.CreateService(foreign))
	must(t, c.CreateDestination(foreign, cfipvs.Destination{Address: netip.MustParseAddr("198.51.100.9"), Port: 25, Family: cfipvs.INET, Weight: 4, FwdMethod: cfipvs.DirectRoute}))

	d := newDirector(t)
	cfg := fullConfig()
	reconcile(t, d, cfg, fullConfigOps...)
	reconcile(t, d, cfg)
	if _, ok := rawService(t, c, key(ipvs.TCP, "192.0.2.99:25")); !ok {
		t.Fatal("the foreign service was removed")
	}
	if ds := rawDests(t, c, foreign); len(ds) != 1 || ds[0].Weight != 4 {
		t.Fatalf("the foreign service's destinations changed: %+v", ds)
	}

	// Dropped from the configuration: the caller removes it explicitly.
	must(t, d.RemoveService(t.Context(), webV4))
	must(t, d.RemoveService(t.Context(), webV4)) // absent: no error
	if _, ok := rawService(t, c, webV4); ok {
		t.Fatal("RemoveService left the service")
	}
	reconcile(t, d, cfg[1:])
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoIPVS runs first, before init loads the modules (GEOTRAFFIC_PHASE
// no-ipvs); in the main run it has nothing to check.
func TestNoIPVS(t *testing.T) {
	if os.Getenv("GEOTRAFFIC_PHASE") != "no-ipvs" {
		t.Skip("checked in the run before ip_vs was loaded")
	}
	d, err := ipvs.NewKernel(nil)
	if err == nil {
		d.Close()
		t.Fatal("NewKernel succeeded without ip_vs")
	}
	if !strings.Contains(err.Error(), "IPVS not available: load ip_vs") || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %q does not say that ip_vs is missing", err)
	}
	t.Log(err)
}
