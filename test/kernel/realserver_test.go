//go:build kernelvm

package kernele2e

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
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

// lvsd runs the lvsd binary inside the namespace (forked from a thread in
// it) and returns its exit status and output. GEOTRAFFIC_LVSD names
// another binary than the VM's.
func (r *rsHost) lvsd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	bin := lvsdBin
	if p := os.Getenv("GEOTRAFFIC_LVSD"); p != "" {
		bin = p
	}
	var out []byte
	code := 0
	err := inNS(r.ns, func() error {
		var err error
		out, err = exec.Command(bin, args...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code, err = ee.ExitCode(), nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lvsd %s: exit %d\n%s", strings.Join(args, " "), code, out)
	return code, string(out)
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
