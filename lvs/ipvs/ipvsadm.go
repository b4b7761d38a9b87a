package ipvs

import (
	"net/netip"
	"strconv"
	"strings"
)

// Local is how the kernel reports a destination whose address is local to
// the director: it overrides the requested method, so the reconciler treats
// it as matching any desired method (otherwise every resync would rewrite it).
const Local Forward = "local"

// String renders the op as ipvsadm arguments (the syntax of `ipvsadm -S`):
//
//	-A -t 10.2.2.1:80 -s wlc
//	-A -u [2001:db8::1]:53 -s mh -b mh-fallback,mh-port -o
//	-a -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 10
//	-d -t 10.2.2.1:80 -r 10.64.0.5:80
func (o Op) String() string {
	var b strings.Builder
	b.WriteString(string(o.Kind))
	b.WriteByte(' ')
	b.WriteString(o.Service.Key.String())
	switch o.Kind {
	case AddService, EditService:
		b.WriteString(" -s ")
		b.WriteString(o.Service.Scheduler)
		if f := o.Service.schedFlags(); f != "" {
			b.WriteString(" -b ")
			b.WriteString(f)
		}
		if o.Service.OnePacket {
			b.WriteString(" -o")
		}
	case AddDest, EditDest:
		b.WriteString(" -r ")
		b.WriteString(hostPort(o.Destination.Addr, o.Destination.Port))
		b.WriteString(" ")
		b.WriteString(o.Destination.Forward.flag())
		b.WriteString(" -w ")
		b.WriteString(strconv.FormatUint(uint64(o.Destination.Weight), 10))
	case DeleteDest:
		b.WriteString(" -r ")
		b.WriteString(hostPort(o.Destination.Addr, o.Destination.Port))
	}
	return b.String()
}

// String renders the key as ipvsadm's service argument: "-t 10.2.2.1:80",
// "-u [2001:db8::1]:53".
func (k ServiceKey) String() string {
	flag := "-t"
	if k.Protocol == UDP {
		flag = "-u"
	}
	return flag + " " + hostPort(k.Addr, k.Port)
}

// schedFlags renders the -b argument as ipvsadm prints it: named flags for
// the schedulers that define them (mh, sh), generic names otherwise.
func (s Service) schedFlags() string {
	names := [2]string{"flag-1", "flag-2"}
	if s.Scheduler == "mh" || s.Scheduler == "sh" {
		names = [2]string{s.Scheduler + "-fallback", s.Scheduler + "-port"}
	}
	var f []string
	if s.MHFallback {
		f = append(f, names[0])
	}
	if s.MHPort {
		f = append(f, names[1])
	}
	return strings.Join(f, ",")
}

func (f Forward) flag() string {
	switch f {
	case Tunnel:
		return "-i"
	case Masquerade:
		return "-m"
	default: // dr, local and unset all print as -g, as ipvsadm does
		return "-g"
	}
}

func hostPort(a netip.Addr, port uint16) string {
	return netip.AddrPortFrom(a, port).String()
}
