//go:build kernelvm

package kernele2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/status"
)

// rsHost is a namespace set up as a freshly installed real server: lo up,
// eth0 (one end of a veth pair; its peer0 stays in the namespace) with an
// address and the default route, every ARP sysctl 0.
type rsHost struct {
	ns netns.NsHandle
	h  *netlink.Handle
}

func newRSHost(t *testing.T) *rsHost {
	t.Helper()
	ns, err := newNS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "peer0"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lo", "eth0", "peer0"} {
		l, err := h.LinkByName(name)
		if err == nil {
			err = h.LinkSetUp(l)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	r := &rsHost{ns: ns, h: h}
	r.addAddr(t, "eth0", "10.9.0.5/24")
	eth0, _ := h.LinkByName("eth0")
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: net.ParseIP("10.9.0.1")}); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rsHost) addAddr(t *testing.T, link, cidr string) {
	t.Helper()
	l, err := r.h.LinkByName(link)
	if err == nil {
		err = addAddr(r.h, l, cidr)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// lvsd runs the lvsd binary inside the namespace and returns its exit
// status and output.
func (r *rsHost) lvsd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	code, out, err := lvsdIn(r.ns, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lvsd %s: exit %d\n%s", strings.Join(args, " "), code, out)
	return code, out
}

// lvsdIn runs the lvsd binary inside ns (forked from a thread in it; ns
// -1: the caller's namespace). GEOTRAFFIC_LVSD names another binary than
// the VM's.
func lvsdIn(ns netns.NsHandle, args ...string) (code int, out string, err error) {
	bin := lvsdBin
	if p := os.Getenv("GEOTRAFFIC_LVSD"); p != "" {
		bin = p
	}
	err = inNS(ns, func() error {
		b, err := exec.Command(bin, args...).CombinedOutput()
		out = string(b)
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code, err = ee.ExitCode(), nil
		}
		return err
	})
	return code, out, err
}

// loAddrs lists lo's addresses as "prefix label-or-flags".
func (r *rsHost) loAddrs(t *testing.T) string {
	t.Helper()
	lo, err := r.h.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	as, err := r.h.AddrList(lo, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, a := range as {
		b.WriteString(a.IPNet.String() + " " + a.Label + "\n")
	}
	return b.String()
}

func (r *rsHost) sysctl(t *testing.T, path, val string) {
	t.Helper()
	err := inNS(r.ns, func() error { return os.WriteFile("/proc/sys/"+path, []byte(val), 0o644) })
	if err != nil {
		t.Fatal(err)
	}
}

func wantRun(t *testing.T, code int, out string, wantCode int, wants ...string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("exit %d, want %d", code, wantCode)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

// lvsd realserver apply binds the VIPs and sets the sysctls once, changes
// nothing the second time, and removes a VIP dropped from the list.
func TestRealServerApply(t *testing.T) {
	r := newRSHost(t)
	code, out := r.lvsd(t, "realserver", "apply", "--vips", "192.0.2.40,2001:db8::40")
	wantRun(t, code, out, 0, "set net.ipv4.conf.all.arp_ignore=1 (was 0)", "set net.ipv4.conf.eth0.arp_announce=2 (was 0)",
		"add 192.0.2.40/32 on lo (label lo:LVS)", "add 2001:db8::40/128 on lo")
	if got := r.loAddrs(t); !strings.Contains(got, "192.0.2.40/32 lo:LVS\n") || !strings.Contains(got, "2001:db8::40/128") {
		t.Errorf("lo has:\n%s", got)
	}
	code, out = r.lvsd(t, "realserver", "apply", "--vips", "192.0.2.40,2001:db8::40")
	if code != 0 || out != "no change\n" {
		t.Errorf("second apply: exit %d, %q; want no change", code, out)
	}
	code, out = r.lvsd(t, "realserver", "check", "--vips", "192.0.2.40,2001:db8::40")
	wantRun(t, code, out, 0, "OK")
	code, out = r.lvsd(t, "realserver", "apply", "--vips", "2001:db8::40")
	if code != 0 || out != "remove 192.0.2.40/32 on lo (no longer configured)\n" {
		t.Errorf("apply without 192.0.2.40: exit %d, %q", code, out)
	}
	if got := r.loAddrs(t); strings.Contains(got, "192.0.2.40") || !strings.Contains(got, "127.0.0.1/8") {
		t.Errorf("lo has:\n%s", got)
	}
}

// lvsd realserver check diagnoses what the runbook warns about: a VIP on
// another interface (CRITICAL), a /24 bound by hand on lo (WARNING), ARP
// sysctls reset (CRITICAL, and apply fixes them), nothing listening.
func TestRealServerCheck(t *testing.T) {
	r := newRSHost(t)
	code, out := r.lvsd(t, "realserver", "check", "--vips", "192.0.2.40")
	wantRun(t, code, out, 2, "CRITICAL 192.0.2.40: not bound on lo", "net.ipv4.conf.all.arp_ignore: is 0, want 1")
	if code, out = r.lvsd(t, "realserver", "apply", "--vips", "192.0.2.40"); code != 0 {
		t.Fatalf("apply: %s", out)
	}

	r.addAddr(t, "peer0", "192.0.2.40/32")
	code, out = r.lvsd(t, "realserver", "check", "--vips", "192.0.2.40")
	wantRun(t, code, out, 2, "CRITICAL 192.0.2.40: also bound on peer0 as 192.0.2.40/32")
	peer0, _ := r.h.LinkByName("peer0")
	a, _ := netlink.ParseAddr("192.0.2.40/32")
	if err := r.h.AddrDel(peer0, a); err != nil {
		t.Fatal(err)
	}

	r.addAddr(t, "lo", "192.0.2.41/24")
	code, out = r.lvsd(t, "realserver", "check", "--vips", "192.0.2.40,192.0.2.41", "--format", "json")
	wantRun(t, code, out, 1, `"status": "WARNING"`, "bound on lo as 192.0.2.41/24, not /32")
	code, out = r.lvsd(t, "realserver", "apply", "--vips", "192.0.2.40,192.0.2.41")
	wantRun(t, code, out, 0, "note: 192.0.2.41 is bound by hand as 192.0.2.41/24 on lo: left alone")
	if got := r.loAddrs(t); !strings.Contains(got, "192.0.2.41/24 lo\n") {
		t.Errorf("the hand-bound /24 was changed; lo has:\n%s", got)
	}

	for _, p := range []string{"all/arp_ignore", "all/arp_announce", "eth0/arp_ignore", "lo/arp_announce"} {
		r.sysctl(t, "net/ipv4/conf/"+p, "0")
	}
	r.sysctl(t, "net/ipv4/conf/eth0/rp_filter", "1")
	code, out = r.lvsd(t, "realserver", "check", "--vips", "192.0.2.40")
	wantRun(t, code, out, 2, "net.ipv4.conf.all.arp_ignore: is 0, want 1", "net.ipv4.conf.lo.arp_announce: is 0, want 2",
		"WARNING  net.ipv4.conf.eth0.rp_filter: strict reverse-path filtering")
	code, out = r.lvsd(t, "realserver", "apply", "--vips", "192.0.2.40")
	wantRun(t, code, out, 0, "set net.ipv4.conf.all.arp_ignore=1 (was 0)", "set net.ipv4.conf.eth0.arp_ignore=1 (was 0)")
	r.sysctl(t, "net/ipv4/conf/eth0/rp_filter", "2")

	var ln net.Listener
	err := inNS(r.ns, func() (err error) { ln, err = net.Listen("tcp", "0.0.0.0:8081"); return err })
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, out = r.lvsd(t, "realserver", "check", "--vips", "192.0.2.40", "--ports", "8081")
	wantRun(t, code, out, 0, "OK")
	code, out = r.lvsd(t, "realserver", "check", "--vips", "192.0.2.40", "--ports", "8081,8082")
	wantRun(t, code, out, 2, "CRITICAL 192.0.2.40:8082: nothing listens on it")
}

const noVIPConf = `[global]
bgp = no
instrumentation = no

[novip_81]
protocol = tcp
ip = 192.0.2.21
port = 81
scheduler = wlc
forwarding = dr
config = file://%s
`

// A DR real server prepared without the VIP (rs3, by lvsd realserver apply
// with another list) drops what the director sends it, and lvsd status
// flags it. Since Linux 4.8 IPVS counts a connection past its SYN as active
// and, under direct routing, sees only the client's packets: rs3's
// connections stay active (SYN_RECV) and never become inactive, while its
// peers' closed connections do. So rs1 and rs2 first get 20 closed and 12
// held connections while rs3's weight is 0; wlc then sends the next ones to
// rs3 only, as its 4 pending connections weigh less than their 6 held ones.
func TestRealServerAnomalyInStatus(t *testing.T) {
	l := getLab(t)
	c := rawClient(t)
	flush(t, c)
	d := newDirector(t)
	svc := ipvs.Service{Key: key(ipvs.TCP, vipNoVIP+":81"), Scheduler: "wlc"}
	desired := func(w3 uint32) []ipvs.Desired {
		return []ipvs.Desired{{Service: svc, Destinations: []ipvs.Destination{
			l.dest4(1, 0, 1, ipvs.DirectRoute), l.dest4(2, 0, 1, ipvs.DirectRoute), l.dest4(3, 0, w3, ipvs.DirectRoute),
		}}}
	}
	reconcile(t, d, desired(0),
		"-A -t 192.0.2.21:81 -s wlc",
		"-a -t 192.0.2.21:81 -r 10.200.1.2:81 -g -w 1",
		"-a -t 192.0.2.21:81 -r 10.200.2.2:81 -g -w 1",
		"-a -t 192.0.2.21:81 -r 10.200.3.2:81 -g -w 0")
	err := inNS(l.client, func() error {
		for i := range 32 {
			conn, err := net.DialTimeout("tcp", vipNoVIP+":81", 5*time.Second)
			if err != nil {
				return fmt.Errorf("connection %d: %w", i, err)
			}
			if i < 20 {
				conn.Close()
			} else {
				t.Cleanup(func() { conn.Close() })
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	logCounters(t, d, svc.Key)
	reconcile(t, d, desired(1), "-e -t 192.0.2.21:81 -r 10.200.3.2:81 -g -w 1")
	inNS(l.client, func() error {
		for range 4 {
			if conn, err := net.DialTimeout("tcp", vipNoVIP+":81", 300*time.Millisecond); err == nil {
				conn.Close()
				t.Errorf("a connection through rs3, which lacks the VIP, was answered")
			}
		}
		return nil
	})

	logCounters(t, d, svc.Key)
	r := &rsHost{ns: l.servers[2].ns}
	code, out := r.lvsd(t, "realserver", "check", "--vips", vipNoVIP)
	wantRun(t, code, out, 2, "CRITICAL 192.0.2.21: not bound on lo")

	dir := t.TempDir()
	conf := filepath.Join(dir, "pybal.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(noVIPConf, filepath.Join(dir, "pool"))), 0o644); err != nil {
		t.Fatal(err)
	}
	var flagged []string
	var last string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && flagged == nil; time.Sleep(250 * time.Millisecond) {
		code, out, err := lvsdIn(-1, "status", "--config", conf)
		last = out
		if err != nil || code != 0 {
			t.Fatalf("lvsd status: exit %d, %v\n%s", code, err, out)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "<< "+status.SuspiciousNote) {
				flagged = append(flagged, line)
			}
		}
		if flagged != nil {
			t.Logf("lvsd status:\n%s", out)
		}
	}
	if len(flagged) != 1 || !strings.Contains(flagged[0], "10.200.3.2:81") {
		t.Errorf("lvsd status flagged %q, want rs3 (10.200.3.2:81) only; it printed:\n%s", flagged, last)
	}
}

// logCounters logs the connection counters of service k's destinations.
func logCounters(t *testing.T, d ipvs.Director, k ipvs.ServiceKey) {
	t.Helper()
	st, err := d.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Service.Key == k {
			for _, ds := range s.Destinations {
				t.Logf("%s weight %d: active %d, inactive %d", ds.Addr, ds.Weight, ds.ActiveConns, ds.InactiveConns)
			}
		}
	}
}
