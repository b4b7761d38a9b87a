package realserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// System is the host seen through netlink and /proc, in the network
// namespace of the calling thread.
type System struct {
	h *netlink.Handle
	// Proc is where procfs is mounted ("/proc").
	Proc string
}

// Open opens rtnetlink (only: the xfrm family may not be loaded).
func Open() (*System, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	return &System{h: h, Proc: "/proc"}, nil
}

// Close releases the netlink socket.
func (s *System) Close() { s.h.Close() }

// Read returns the current state: every address, the default-route
// interfaces, the sysctls of all, lo and those interfaces, and the
// listening TCP sockets.
func (s *System) Read() (State, error) {
	links, err := s.h.LinkList()
	if err != nil {
		return State{}, fmt.Errorf("netlink: list interfaces: %w", err)
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	var st State
	if st.Addrs, err = s.addrs(names); err != nil {
		return st, err
	}
	if st.DefaultLinks, err = s.defaultLinks(names); err != nil {
		return st, err
	}
	st.Sysctls = map[Sysctl]int{}
	for _, iface := range st.sysctlIfaces() {
		for _, name := range []string{"arp_ignore", "arp_announce", "rp_filter"} {
			sc := Sysctl{Iface: iface, Name: name}
			if v, err := s.readSysctl(sc); err == nil {
				st.Sysctls[sc] = v
			}
		}
	}
	for _, f := range []string{"tcp", "tcp6"} {
		ls, err := readListening(s.Proc + "/thread-self/net/" + f)
		if err != nil && !errors.Is(err, os.ErrNotExist) { // tcp6: IPv6 disabled
			return st, err
		}
		st.Listening = append(st.Listening, ls...)
	}
	return st, nil
}

func (s *System) addrs(names map[int]string) ([]Addr, error) {
	as, err := s.h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("netlink: list addresses: %w", err)
	}
	var out []Addr
	for _, a := range as {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		link := names[a.LinkIndex]
		label := a.Label
		if label == link {
			label = ""
		}
		out = append(out, Addr{Link: link, Prefix: netip.PrefixFrom(ip.Unmap(), ones), Label: label, Flags: a.Flags})
	}
	return out, nil
}

func (s *System) defaultLinks(names map[int]string) ([]string, error) {
	rs, err := s.h.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("netlink: list routes: %w", err)
	}
	var out []string
	add := func(idx int) {
		n, ok := names[idx]
		if !ok {
			return
		}
		for _, o := range out {
			if o == n {
				return
			}
		}
		out = append(out, n)
	}
	for _, r := range rs {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		add(r.LinkIndex)
		for _, nh := range r.MultiPath {
			add(nh.LinkIndex)
		}
	}
	return out, nil
}

func (s *System) readSysctl(sc Sysctl) (int, error) {
	b, err := os.ReadFile(s.Proc + "/sys/" + sc.Path())
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// Apply performs op.
func (s *System) Apply(op Op) error {
	switch op.Kind {
	case SetSysctl:
		err := os.WriteFile(s.Proc+"/sys/"+op.Sysctl.Path(), []byte(strconv.Itoa(op.Value)), 0o644)
		if err != nil {
			return fmt.Errorf("set %s: %w", op.Sysctl, err)
		}
		return nil
	case AddVIP, DelVIP:
		l, err := s.h.LinkByName(op.Addr.Link)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		a := &netlink.Addr{IPNet: ipNet(op.Addr.Prefix), Label: op.Addr.Label, Flags: op.Addr.Flags}
		if op.Kind == AddVIP {
			err = s.h.AddrAdd(l, a)
		} else {
			err = s.h.AddrDel(l, a)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return nil
	}
	return fmt.Errorf("unknown operation %d", op.Kind)
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
