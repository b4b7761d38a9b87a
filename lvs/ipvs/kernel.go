package ipvs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"

	cfipvs "github.com/cloudflare/ipvs"
	"github.com/cloudflare/ipvs/netmask"
)

// NewKernel returns a Director over the running kernel's IPVS, through
// generic netlink (github.com/cloudflare/ipvs). It needs CAP_NET_ADMIN and
// the ip_vs module; a missing module is reported as such.
func NewKernel(log *slog.Logger) (Director, error) {
	c, err := cfipvs.New()
	if err == nil {
		_, err = c.Info()
		if err != nil {
			closeClient(c)
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("IPVS not available: load ip_vs (modprobe ip_vs): %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("ipvs: open netlink: %w", err)
	}
	return newReconciler(&netlinkKernel{c: c}, log, false), nil
}

// netlinkKernel adapts cloudflare/ipvs's Client to the reconciler's kernel.
type netlinkKernel struct{ c cfipvs.Client }

// services lists the TCP/UDP address services; fwmark and SCTP services,
// which lvsd never creates, are not represented and so left alone.
func (k *netlinkKernel) services() ([]Service, error) {
	svcs, err := k.c.Services()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // the library's answer to an empty dump
	}
	if err != nil {
		return nil, err
	}
	out := make([]Service, 0, len(svcs))
	for _, s := range svcs {
		if sv, ok := fromKernelService(s.Service); ok {
			out = append(out, sv)
		}
	}
	return out, nil
}

func (k *netlinkKernel) destinations(key ServiceKey) ([]DestinationStatus, error) {
	ds, err := k.c.Destinations(toKernelService(Service{Key: key}))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]DestinationStatus, 0, len(ds))
	for _, d := range ds {
		out = append(out, DestinationStatus{
			Destination: Destination{
				Addr:    d.Address.Unmap(),
				Port:    d.Port,
				Weight:  d.Weight,
				Forward: fromKernelForward(d.FwdMethod),
			},
			ActiveConns:   d.ActiveConnections,
			InactiveConns: d.InactiveConnections,
		})
	}
	return out, nil
}

func (k *netlinkKernel) apply(op Op) error {
	svc := toKernelService(op.Service)
	switch op.Kind {
	case AddService, EditService:
		var err error
		if op.Kind == AddService {
			err = k.c.CreateService(svc)
		} else {
			err = k.c.UpdateService(svc)
		}
		// The kernel answers ENOENT when it cannot find (or autoload) the
		// scheduler's module.
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("scheduler %s not available (load ip_vs_%s): %w", op.Service.Scheduler, op.Service.Scheduler, err)
		}
		return err
	case DeleteService:
		return k.c.RemoveService(svc)
	case AddDest:
		return k.c.CreateDestination(svc, toKernelDest(op.Destination))
	case EditDest:
		return k.c.UpdateDestination(svc, toKernelDest(op.Destination))
	case DeleteDest:
		return k.c.RemoveDestination(svc, toKernelDest(op.Destination))
	}
	return fmt.Errorf("%w %q", errUnknownOp, op.Kind)
}

func (k *netlinkKernel) close() error { return closeClient(k.c) }

// closeClient closes the netlink socket: Close exists on the library's
// concrete type only.
func closeClient(c cfipvs.Client) error {
	if cl, ok := c.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

const (
	flagMHFallback = cfipvs.ServiceSchedulerOpt1 // also sh-fallback
	flagMHPort     = cfipvs.ServiceSchedulerOpt2 // also sh-port
)

func toKernelService(s Service) cfipvs.Service {
	ks := cfipvs.Service{
		Address:   s.Key.Addr,
		Port:      s.Key.Port,
		Scheduler: s.Scheduler,
		Protocol:  cfipvs.TCP,
		Family:    family(s.Key.Addr.Is4()),
	}
	if s.Key.Protocol == UDP {
		ks.Protocol = cfipvs.UDP
	}
	// The kernel requires a netmask on create/update; a single-address
	// service has a host mask.
	if s.Key.Addr.Is4() {
		ks.Netmask = netmask.MaskFrom(32, 32)
	} else {
		ks.Netmask = netmask.MaskFrom(128, 128)
	}
	if s.OnePacket {
		ks.Flags |= cfipvs.ServiceOnePacket
	}
	if s.MHFallback {
		ks.Flags |= flagMHFallback
	}
	if s.MHPort {
		ks.Flags |= flagMHPort
	}
	return ks
}

func fromKernelService(ks cfipvs.Service) (Service, bool) {
	var p Protocol
	switch {
	case ks.FWMark != 0:
		return Service{}, false
	case ks.Protocol == cfipvs.TCP:
		p = TCP
	case ks.Protocol == cfipvs.UDP:
		p = UDP
	default:
		return Service{}, false
	}
	return Service{
		Key:        ServiceKey{Protocol: p, Addr: ks.Address.Unmap(), Port: ks.Port},
		Scheduler:  ks.Scheduler,
		OnePacket:  ks.Flags&cfipvs.ServiceOnePacket != 0,
		MHFallback: ks.Flags&flagMHFallback != 0,
		MHPort:     ks.Flags&flagMHPort != 0,
	}, true
}

func toKernelDest(d Destination) cfipvs.Destination {
	kd := cfipvs.Destination{
		Address: d.Addr,
		Port:    d.Port,
		Weight:  d.Weight,
		Family:  family(d.Addr.Is4()),
	}
	switch d.Forward {
	case Tunnel:
		kd.FwdMethod = cfipvs.Tunnel
	case Masquerade:
		kd.FwdMethod = cfipvs.Masquerade
	case Local:
		kd.FwdMethod = cfipvs.Local
	default:
		kd.FwdMethod = cfipvs.DirectRoute
	}
	return kd
}

func fromKernelForward(f cfipvs.ForwardType) Forward {
	switch f {
	case cfipvs.Tunnel:
		return Tunnel
	case cfipvs.Masquerade:
		return Masquerade
	case cfipvs.Local:
		return Local
	case cfipvs.DirectRoute:
		return DirectRoute
	}
	return Forward(fmt.Sprintf("fwd-%d", uint32(f))) // e.g. bypass: differs, so it is rewritten
}

func family(is4 bool) cfipvs.AddressFamily {
	if is4 {
		return cfipvs.INET
	}
	return cfipvs.INET6
}
