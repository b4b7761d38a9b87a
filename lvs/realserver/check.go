package realserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
)

// Severity is a Nagios status; its value is the plugin's exit code.
type Severity int

// Nagios statuses.
const (
	OK       Severity = 0
	Warning  Severity = 1
	Critical Severity = 2
)

func (s Severity) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	}
	return "CRITICAL"
}

// MarshalText writes the status's name in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Problem is one finding of Diagnose.
type Problem struct {
	Severity Severity `json:"severity"`
	Subject  string   `json:"subject"` // the VIP, VIP:port or sysctl concerned
	Message  string   `json:"message"`
}

// Report is the whole diagnosis.
type Report struct {
	Status   Severity  `json:"status"`
	Problems []Problem `json:"problems"`
}

func (r *Report) add(sev Severity, subject, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Severity: sev, Subject: subject, Message: fmt.Sprintf(format, args...)})
	r.Status = max(r.Status, sev)
}

// Diagnose checks st against vips: each VIP on lo, managed, as a /32 or
// /128, and on no other interface (there it answers ARP and steals the
// director's traffic); the ARP sysctls; no strict rp_filter on the
// receiving interfaces; something listening on each VIP's ports.
func Diagnose(vips []VIP, st State) Report {
	r := Report{Problems: []Problem{}}
	for _, v := range vips {
		diagnoseVIP(&r, v, st)
	}
	diagnoseSysctls(&r, st)
	return r
}

func diagnoseVIP(r *Report, v VIP, st State) {
	onLo := false
	for _, a := range st.Addrs {
		if a.Prefix.Addr() != v.Addr {
			continue
		}
		s := v.Addr.String()
		switch {
		case a.Link != Loopback:
			r.add(Critical, s, "also bound on %s as %s: that interface answers ARP for it and takes the director's traffic", a.Link, a.Prefix)
		case !a.Prefix.IsSingleIP():
			onLo = true
			r.add(Warning, s, "bound on lo as %s, not /%d (bound by hand?)", a.Prefix, v.Addr.BitLen())
		case !a.Managed():
			onLo = true
			r.add(Warning, s, "bound on lo without the %s marker (bound by hand; lvsd realserver apply leaves it alone)", marker(v.Addr))
		default:
			onLo = true
		}
	}
	if !onLo {
		r.add(Critical, v.Addr.String(), "not bound on lo: the director's traffic for it is dropped")
	}
	for _, p := range v.Ports {
		if !listening(st.Listening, v.Addr, p) {
			r.add(Critical, netip.AddrPortFrom(v.Addr, p).String(), "nothing listens on it (nor on the wildcard address)")
		}
	}
}

// listening reports whether a TCP socket accepts connections to a:port:
// one bound to a, or to the wildcard address (:: accepts IPv4 too unless
// IPV6_V6ONLY, which /proc/net does not show; it is taken to).
func listening(ls []netip.AddrPort, a netip.Addr, port uint16) bool {
	return slices.ContainsFunc(ls, func(l netip.AddrPort) bool {
		if l.Port() != port {
			return false
		}
		la := l.Addr().Unmap()
		return la == a || la.IsUnspecified() && (la.Is6() || a.Is4())
	})
}

func diagnoseSysctls(r *Report, st State) {
	for _, iface := range st.sysctlIfaces() {
		for _, w := range wantSysctls {
			s := Sysctl{Iface: iface, Name: w.name}
			got, ok := st.Sysctls[s]
			switch {
			case !ok:
				r.add(Critical, s.String(), "cannot be read")
			case got != w.val:
				r.add(Critical, s.String(), "is %d, want %d: the VIPs on lo are answered for or announced by ARP", got, w.val)
			}
		}
	}
	for _, iface := range st.DefaultLinks {
		// The kernel uses the larger of all and the interface's value.
		s := Sysctl{Iface: iface, Name: "rp_filter"}
		all := st.Sysctls[Sysctl{Iface: "all", Name: "rp_filter"}]
		if v := max(st.Sysctls[s], all); v == 1 {
			r.add(Warning, s.String(), "strict reverse-path filtering (rp_filter=1, net.ipv4.conf.all.rp_filter=%d) on an interface receiving DR traffic drops it when the route back differs", all)
		}
	}
}

// WriteText prints r for people: the status, then one problem a line.
func (r Report) WriteText(w io.Writer) {
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "OK: real-server setup as configured")
		return
	}
	fmt.Fprintf(w, "%s: %d problem%s\n", r.Status, len(r.Problems), plural(len(r.Problems)))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "%-8s %s: %s\n", p.Severity, p.Subject, p.Message)
	}
}

// WriteJSON prints r as one JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
