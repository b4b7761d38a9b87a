// Package realserver is the real-server side of LVS direct routing: the
// service IPs (VIPs) bound to lo so the server accepts traffic the director
// forwards unchanged, and the ARP sysctls that stop it from answering ARP
// for them. It reads the current state, plans the operations that bring it
// to the desired one, applies them, and diagnoses what is wrong.
//
// Managed addresses are marked so that addresses bound by hand are never
// touched: an IPv4 VIP carries the label "lo:LVS"; IPv6 addresses have no
// labels, so an IPv6 VIP is marked by the flag combination
// IFA_F_NODAD|IFA_F_NOPREFIXROUTE, which `ip addr add` never sets unless
// asked (a /128 on lo needs neither). The marker lives in the kernel with
// the address itself, so it is lost and restored together with it, with no
// state file to drift.
package realserver
