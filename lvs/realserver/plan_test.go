package realserver

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// fakeHost is an in-memory Host: Apply changes its State as the kernel
// would.
type fakeHost struct {
	st      State
	applied []Op
}

func (f *fakeHost) Read() (State, error) {
	st := f.st
	st.Addrs = slices.Clone(f.st.Addrs)
	return st, nil
}

func (f *fakeHost) Apply(op Op) error {
	f.applied = append(f.applied, op)
	switch op.Kind {
	case SetSysctl:
		f.st.Sysctls[op.Sysctl] = op.Value
	case AddVIP:
		f.st.Addrs = append(f.st.Addrs, op.Addr)
	case DelVIP:
		f.st.Addrs = slices.DeleteFunc(f.st.Addrs, func(a Addr) bool { return a == op.Addr })
	}
	return nil
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// freshHost is a server as installed: lo and eth0 with the default route,
// every sysctl 0.
func freshHost() *fakeHost {
	st := State{
		Addrs: []Addr{
			{Link: "lo", Prefix: netip.MustParsePrefix("127.0.0.1/8")},
			{Link: "lo", Prefix: netip.MustParsePrefix("::1/128")},
			{Link: "eth0", Prefix: netip.MustParsePrefix("10.0.0.5/24")},
		},
		DefaultLinks: []string{"eth0"},
		Sysctls:      map[Sysctl]int{},
	}
	for _, i := range []string{"all", "lo", "eth0"} {
		for _, n := range []string{"arp_ignore", "arp_announce", "rp_filter"} {
			st.Sysctls[Sysctl{i, n}] = 0
		}
	}
	return &fakeHost{st: st}
}

func kinds(ops []Op) string {
	var b strings.Builder
	for _, op := range ops {
		b.WriteString(op.String() + "\n")
	}
	return b.String()
}

func TestApplyTwiceChangesOnce(t *testing.T) {
	h := freshHost()
	var out bytes.Buffer
	ops, err := Apply(h, addrs("192.0.2.20", "2001:db8::20"), &out)
	if err != nil {
		t.Fatal(err)
	}
	want := `set net.ipv4.conf.all.arp_ignore=1 (was 0)
set net.ipv4.conf.all.arp_announce=2 (was 0)
set net.ipv4.conf.lo.arp_ignore=1 (was 0)
set net.ipv4.conf.lo.arp_announce=2 (was 0)
set net.ipv4.conf.eth0.arp_ignore=1 (was 0)
set net.ipv4.conf.eth0.arp_announce=2 (was 0)
add 192.0.2.20/32 on lo (label lo:LVS)
add 2001:db8::20/128 on lo (flags nodad,noprefixroute)
`
	if got := kinds(ops); got != want {
		t.Errorf("first apply:\n%s\nwant:\n%s", got, want)
	}
	if out.String() != want {
		t.Errorf("printed:\n%s", out.String())
	}
	out.Reset()
	ops, err = Apply(h, addrs("192.0.2.20", "2001:db8::20"), &out)
	if err != nil || len(ops) != 0 || out.String() != "no change\n" {
		t.Errorf("second apply: %v, %v, printed %q; want no change", ops, err, out.String())
	}
}

func TestPlanRemovesOnlyManagedVIPs(t *testing.T) {
	h := freshHost()
	if _, err := Apply(h, addrs("192.0.2.20", "192.0.2.21", "2001:db8::21"), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	// Bound by hand: never removed, even though not configured.
	h.st.Addrs = append(h.st.Addrs,
		Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.0.2.99/32")},
		Addr{Link: "lo", Prefix: netip.MustParsePrefix("2001:db8::99/128")},
		Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.0.2.98/32"), Label: Label})
	ops, notes := Plan(addrs("192.0.2.20"), h.st)
	want := "remove 192.0.2.21/32 on lo (no longer configured)\nremove 2001:db8::21/128 on lo (no longer configured)\n"
	if got := kinds(ops); got != want || len(notes) != 0 {
		t.Errorf("plan:\n%s\nnotes %q\nwant:\n%s", got, notes, want)
	}
}

func TestPlanLeavesHandBoundVIPAlone(t *testing.T) {
	h := freshHost()
	h.st.Addrs = append(h.st.Addrs,
		Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.0.2.0/24")},
		Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.0.2.20/24")},
		Addr{Link: "lo", Prefix: netip.MustParsePrefix("2001:db8::20/128"), Flags: 0x80})
	ops, notes := Plan(addrs("192.0.2.20", "2001:db8::20"), h.st)
	for _, op := range ops {
		if op.Kind != SetSysctl {
			t.Errorf("unexpected %s", op)
		}
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "192.0.2.20 is bound by hand as 192.0.2.20/24 on lo") {
		t.Errorf("notes %q", notes)
	}
}

func TestPlanSysctlsOfEveryDefaultLink(t *testing.T) {
	h := freshHost()
	h.st.DefaultLinks = []string{"eth0", "bond0", "lo"}
	ops, _ := Plan(nil, h.st)
	if len(ops) != 8 { // all, lo, eth0, bond0 (unreadable: was -1); lo once
		t.Errorf("ops:\n%s", kinds(ops))
	}
	if last := ops[len(ops)-1]; last.Sysctl.Iface != "bond0" || last.Old != -1 {
		t.Errorf("last op %s, want bond0's with old -1", last)
	}
}

func TestManagedMarker(t *testing.T) {
	for _, c := range []struct {
		a    Addr
		want bool
	}{
		{Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.0.2.1/32"), Label: Label}, true},
		{Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.0.2.1/32")}, false},
		{Addr{Link: "lo", Prefix: netip.MustParsePrefix("192.0.2.1/24"), Label: Label}, false},
		{Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.0.2.1/32"), Label: Label}, false},
		{Addr{Link: "lo", Prefix: netip.MustParsePrefix("2001:db8::1/128"), Flags: Flags6 | 0x80}, true},
		{Addr{Link: "lo", Prefix: netip.MustParsePrefix("2001:db8::1/128"), Flags: 0x80}, false},
	} {
		if got := c.a.Managed(); got != c.want {
			t.Errorf("%+v: managed %v, want %v", c.a, got, c.want)
		}
	}
}
