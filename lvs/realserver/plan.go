package realserver

import (
	"fmt"
	"net/netip"
	"slices"
)

// OpKind is what an Op does.
type OpKind uint8

// Operation kinds.
const (
	AddVIP OpKind = iota + 1
	DelVIP
	SetSysctl
)

// Op is one change to the system.
type Op struct {
	Kind   OpKind
	Addr   Addr   // AddVIP, DelVIP
	Sysctl Sysctl // SetSysctl
	Value  int    // SetSysctl
	Old    int    // SetSysctl: the value replaced; -1 when it could not be read
}

func (o Op) String() string {
	switch o.Kind {
	case AddVIP:
		return fmt.Sprintf("add %s (%s)", o.Addr, marker(o.Addr.Prefix.Addr()))
	case DelVIP:
		return fmt.Sprintf("remove %s (no longer configured)", o.Addr)
	case SetSysctl:
		return fmt.Sprintf("set %s=%d (was %d)", o.Sysctl, o.Value, o.Old)
	}
	return "unknown operation"
}

func marker(a netip.Addr) string {
	if a.Is4() {
		return "label " + Label
	}
	return "flags nodad,noprefixroute"
}

// Plan returns the operations that bring st to serving vips: each VIP on
// lo as a managed /32 or /128, no other managed VIP, and the ARP sysctls
// of all, lo and the default-route interfaces set. notes say what was left
// alone and why (a VIP already bound by hand). The order is fixed: sysctls
// first, so a new VIP is never announced by ARP, then additions, then
// removals.
func Plan(vips []netip.Addr, st State) (ops []Op, notes []string) {
	ops = append(ops, planSysctls(st)...)
	want := map[netip.Addr]bool{}
	for _, v := range vips {
		v = v.Unmap()
		if want[v] {
			continue
		}
		want[v] = true
		if a, ok := handBound(st, v); ok {
			notes = append(notes, fmt.Sprintf("%s is bound by hand as %s: left alone (remove it for apply to manage the VIP)", v, a))
			continue
		}
		if !hasManaged(st, v) {
			ops = append(ops, Op{Kind: AddVIP, Addr: vipAddr(v)})
		}
	}
	for _, a := range st.Addrs {
		if a.Managed() && !want[a.Prefix.Addr()] {
			ops = append(ops, Op{Kind: DelVIP, Addr: a})
		}
	}
	return ops, notes
}

// vipAddr is the managed form of VIP v.
func vipAddr(v netip.Addr) Addr {
	a := Addr{Link: Loopback, Prefix: netip.PrefixFrom(v, v.BitLen())}
	if v.Is4() {
		a.Label = Label
	} else {
		a.Flags = Flags6
	}
	return a
}

func planSysctls(st State) []Op {
	var ops []Op
	for _, iface := range st.sysctlIfaces() {
		for _, w := range wantSysctls {
			s := Sysctl{Iface: iface, Name: w.name}
			old, ok := st.Sysctls[s]
			if !ok {
				old = -1
			}
			if old != w.val {
				ops = append(ops, Op{Kind: SetSysctl, Sysctl: s, Value: w.val, Old: old})
			}
		}
	}
	return ops
}

func hasManaged(st State, v netip.Addr) bool {
	return slices.ContainsFunc(st.Addrs, func(a Addr) bool { return a.Managed() && a.Prefix.Addr() == v })
}

// handBound finds v bound on lo without the marker: the kernel refuses a
// second copy of it, and it is not this package's to replace.
func handBound(st State, v netip.Addr) (Addr, bool) {
	for _, a := range st.Addrs {
		if a.Link == Loopback && a.Prefix.Addr() == v && !a.Managed() {
			return a, true
		}
	}
	return Addr{}, false
}
