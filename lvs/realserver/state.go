package realserver

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Label marks the IPv4 VIPs this package manages.
const Label = "lo:LVS"

// Flags6 marks the IPv6 VIPs this package manages (see the package doc).
const Flags6 = unix.IFA_F_NODAD | unix.IFA_F_NOPREFIXROUTE

// Loopback is the interface the VIPs are bound to.
const Loopback = "lo"

// Addr is one address bound to an interface.
type Addr struct {
	Link   string
	Prefix netip.Prefix
	Label  string // IPv4 only; "" when none beyond the interface name
	Flags  int    // IFA_F_* flags as the kernel reports them
}

// Managed reports whether a carries this package's marker.
func (a Addr) Managed() bool {
	if a.Link != Loopback || !a.Prefix.IsSingleIP() {
		return false
	}
	if a.Prefix.Addr().Is4() {
		return a.Label == Label
	}
	return a.Flags&Flags6 == Flags6
}

func (a Addr) String() string { return fmt.Sprintf("%s on %s", a.Prefix, a.Link) }

// Sysctl names one /proc/sys/net/ipv4/conf value.
type Sysctl struct {
	Iface string // "all", "lo" or an interface name
	Name  string // arp_ignore, arp_announce, rp_filter
}

// Path is the value's file under /proc/sys.
func (s Sysctl) Path() string { return "net/ipv4/conf/" + s.Iface + "/" + s.Name }

func (s Sysctl) String() string { return "net.ipv4.conf." + s.Iface + "." + s.Name }

// State is what the planner and the diagnosis look at.
type State struct {
	Addrs []Addr
	// DefaultLinks are the interfaces that carry a default route (IPv4 or
	// IPv6): the ones DR traffic arrives on.
	DefaultLinks []string
	// Sysctls holds arp_ignore, arp_announce and rp_filter of all, lo and
	// each default link; a missing entry could not be read.
	Sysctls map[Sysctl]int
	// Listening holds the local addresses of listening TCP sockets; only
	// check reads it.
	Listening []netip.AddrPort
}

// wantSysctls are the ARP settings of DR: answer ARP only for addresses
// of the interface asked (arp_ignore=1) and use the best local address as
// ARP source (arp_announce=2), so the VIPs on lo are never announced.
var wantSysctls = []struct {
	name string
	val  int
}{{"arp_ignore", 1}, {"arp_announce", 2}}

// sysctlIfaces are the interfaces whose ARP settings are managed.
func (st *State) sysctlIfaces() []string {
	out := []string{"all", Loopback}
	for _, l := range st.DefaultLinks {
		if l != Loopback && l != "all" {
			out = append(out, l)
		}
	}
	return out
}
