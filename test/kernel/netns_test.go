//go:build kernelvm

package kernele2e

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// The lab, inside the VM: the root namespace is the director; a client
// namespace and three real-server namespaces hang off it on veth pairs,
// each on its own subnet with the director as default gateway.
//
//	client 203.0.113.2, 2001:db8:c::2  --  director (VIPs on lo)  --  rsN 10.200.N.2, 2001:db8:200:N::2
//
// Real servers answer on ports 80 and 8080 with their name and hold
// connections to port 81 open; lvsd realserver apply binds the
// direct-routing VIPs on their lo, as a DR real server must.
type lab struct {
	client  netns.NsHandle
	servers []*realServer
}

type realServer struct {
	name         string
	ns           netns.NsHandle
	addr4, addr6 netip.Addr
}

const (
	vipNAT4  = "192.0.2.10"
	vipNAT6  = "2001:db8::10"
	vipDR4   = "192.0.2.20"
	vipLvsd  = "192.0.2.30" // the service of the lvsd end-to-end test
	vipNoVIP = "192.0.2.21" // a DR service whose rs3 lacks the VIP
)

var (
	labOnce sync.Once
	theLab  *lab
	labErr  error
)

// getLab builds the lab once per VM run.
func getLab(t *testing.T) *lab {
	t.Helper()
	labOnce.Do(func() { theLab, labErr = buildLab() })
	if labErr != nil {
		t.Fatalf("lab: %v", labErr)
	}
	return theLab
}

func buildLab() (*lab, error) {
	// The director routes; DR replies come back through it with the VIP,
	// one of its own addresses, as source: accept_local, no rp_filter.
	for path, v := range map[string]string{
		"net/ipv4/ip_forward":             "1",
		"net/ipv6/conf/all/forwarding":    "1",
		"net/ipv4/conf/all/accept_local":  "1",
		"net/ipv4/conf/all/rp_filter":     "0",
		"net/ipv4/conf/default/rp_filter": "0",
	} {
		if err := os.WriteFile("/proc/sys/"+path, []byte(v), 0o644); err != nil {
			return nil, fmt.Errorf("sysctl %s: %w", path, err)
		}
	}
	root, err := netlink.NewHandle(unix.NETLINK_ROUTE) // only rtnetlink: xfrm is not loaded
	if err != nil {
		return nil, err
	}
	lo, err := root.LinkByName("lo")
	if err != nil {
		return nil, err
	}
	for _, a := range []string{vipNAT4 + "/32", vipDR4 + "/32", vipNoVIP + "/32", vipLvsd + "/32", vipNAT6 + "/128"} {
		if err := addAddr(root, lo, a); err != nil {
			return nil, err
		}
	}
	l := &lab{}
	if l.client, err = newNS(); err != nil {
		return nil, err
	}
	if err := wire(root, l.client, "cli", "203.0.113.1/24", "203.0.113.2/24", "2001:db8:c::1/64", "2001:db8:c::2/64"); err != nil {
		return nil, err
	}
	for i := 1; i <= 3; i++ {
		rs := &realServer{name: fmt.Sprintf("rs%d", i),
			addr4: netip.MustParseAddr(fmt.Sprintf("10.200.%d.2", i)),
			addr6: netip.MustParseAddr(fmt.Sprintf("2001:db8:200:%d::2", i))}
		if rs.ns, err = newNS(); err != nil {
			return nil, err
		}
		if err := wire(root, rs.ns, rs.name,
			fmt.Sprintf("10.200.%d.1/24", i), rs.addr4.String()+"/24",
			fmt.Sprintf("2001:db8:200:%d::1/64", i), rs.addr6.String()+"/64"); err != nil {
			return nil, err
		}
		// The DR VIPs are bound as on a real server, by lvsd realserver
		// apply; rs3 lacks vipNoVIP, for TestRealServerAnomalyInStatus.
		vips := vipDR4 + "," + vipNoVIP
		if i == 3 {
			vips = vipDR4
		}
		if code, out, err := lvsdIn(rs.ns, "realserver", "apply", "--vips", vips); err != nil || code != 0 {
			return nil, fmt.Errorf("%s: lvsd realserver apply: exit %d, %v\n%s", rs.name, code, err, out)
		}
		for _, port := range []string{"80", "8080"} {
			if err := rs.serve(port); err != nil {
				return nil, err
			}
		}
		if err := rs.hold("81"); err != nil {
			return nil, err
		}
		if err := rs.serveUDP(vipDR4 + ":53"); err != nil {
			return nil, err
		}
		l.servers = append(l.servers, rs)
	}
	return l, nil
}

// newNS creates a network namespace. It does so on a throw-away thread,
// so no thread of the test is ever left in the wrong namespace; the handle
// (an open file) keeps the namespace alive after that thread is gone.
func newNS() (netns.NsHandle, error) {
	var ns netns.NsHandle
	err := inNS(-1, func() (err error) {
		ns, err = netns.New()
		return err
	})
	return ns, err
}

// inNS runs fn on a thread inside ns (ns -1: the thread stays in the
// caller's namespace); sockets fn creates belong to ns.
func inNS(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if ns != -1 {
			if err := netns.Set(ns); err != nil {
				errc <- err
				return
			}
		}
		errc <- fn()
	}()
	return <-errc
}

// wire connects ns to the director: a veth pair, addresses on both ends,
// lo up in ns and default routes via the director.
func wire(root *netlink.Handle, ns netns.NsHandle, name, root4, peer4, root6, peer6 string) error {
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name + "-d"}, PeerName: "eth0", PeerNamespace: netlink.NsFd(ns)}
	if err := root.LinkAdd(veth); err != nil {
		return fmt.Errorf("%s: veth: %w", name, err)
	}
	rl, err := root.LinkByName(name + "-d")
	if err != nil {
		return err
	}
	for _, a := range []string{root4, root6} {
		if err := addAddr(root, rl, a); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := root.LinkSetUp(rl); err != nil {
		return err
	}
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	for _, ifname := range []string{"lo", "eth0"} {
		l, err := h.LinkByName(ifname)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", name, ifname, err)
		}
		if err := h.LinkSetUp(l); err != nil {
			return err
		}
	}
	pl, err := h.LinkByName("eth0")
	if err != nil {
		return err
	}
	for _, a := range []string{peer4, peer6} {
		if err := addAddr(h, pl, a); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	for _, gw := range []string{root4, root6} {
		p := netip.MustParsePrefix(gw)
		if err := h.RouteAdd(&netlink.Route{LinkIndex: pl.Attrs().Index, Gw: p.Addr().AsSlice()}); err != nil {
			return fmt.Errorf("%s: default route via %s: %w", name, p.Addr(), err)
		}
	}
	return nil
}

// addAddr adds an address; IPv6 ones skip duplicate address detection so
// they are usable at once.
func addAddr(h *netlink.Handle, l netlink.Link, cidr string) error {
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		return err
	}
	if a.IP.To4() == nil {
		a.Flags = unix.IFA_F_NODAD
	}
	if err := h.AddrAdd(l, a); err != nil {
		return fmt.Errorf("address %s on %s: %w", cidr, l.Attrs().Name, err)
	}
	return nil
}

// listenTCP listens on port in the server's namespace, every address.
func (rs *realServer) listenTCP(port string) (net.Listener, error) {
	var ln net.Listener
	err := inNS(rs.ns, func() (err error) {
		ln, err = net.Listen("tcp", ":"+port)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: listen %s: %w", rs.name, port, err)
	}
	return ln, nil
}

// serve answers every TCP connection on port (IPv4 and IPv6, any local
// address including the DR VIP) with the server's name.
func (rs *realServer) serve(port string) error {
	ln, err := rs.listenTCP(port)
	if err != nil {
		return err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(rs.name))
			c.Close()
		}
	}()
	return nil
}

// hold accepts TCP connections on port and keeps each open until the
// client closes it: they count as active in IPVS.
func (rs *realServer) hold(port string) error {
	ln, err := rs.listenTCP(port)
	if err != nil {
		return err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	return nil
}

// serveUDP answers every datagram to addr with the server's name. It binds
// the DR VIP itself so replies leave with the VIP as source.
func (rs *realServer) serveUDP(addr string) error {
	var pc net.PacketConn
	err := inNS(rs.ns, func() (err error) {
		pc, err = net.ListenPacket("udp", addr)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: listen udp %s: %w", rs.name, addr, err)
	}
	go func() {
		buf := make([]byte, 512)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(rs.name), from)
		}
	}()
	return nil
}

// udpHits sends n datagrams to vip from one client socket (one source
// port), each waiting for its answer, and counts who answered.
func (l *lab) udpHits(t *testing.T, vip string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	err := inNS(l.client, func() error {
		pc, err := net.ListenPacket("udp", "0.0.0.0:0")
		if err != nil {
			return err
		}
		defer pc.Close()
		to, err := net.ResolveUDPAddr("udp", vip)
		if err != nil {
			return err
		}
		buf := make([]byte, 512)
		for i := range n {
			if _, err := pc.WriteTo([]byte("q"), to); err != nil {
				return fmt.Errorf("datagram %d to %s: %w", i, vip, err)
			}
			pc.SetReadDeadline(time.Now().Add(5 * time.Second))
			m, _, err := pc.ReadFrom(buf)
			if err != nil {
				return fmt.Errorf("datagram %d to %s: no answer: %w", i, vip, err)
			}
			got[string(buf[:m])]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d datagrams to %s from one source port: %v", n, vip, got)
	return got
}

// hits opens n TCP connections from the client namespace to vip and counts
// which real server answered each. Every connection must be answered.
func (l *lab) hits(t *testing.T, vip string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	err := inNS(l.client, func() error {
		for i := range n {
			c, err := net.DialTimeout("tcp", vip, 5*time.Second)
			if err != nil {
				return fmt.Errorf("connection %d to %s: %w", i, vip, err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			b, err := io.ReadAll(c)
			c.Close()
			if err != nil || len(b) == 0 {
				return fmt.Errorf("connection %d to %s: read %q: %v", i, vip, b, err)
			}
			got[string(b)]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d connections to %s: %v", n, vip, got)
	return got
}
