// Package ipvs programs Linux IPVS by reconciliation: it reads the kernel's
// services and destinations, diffs them against the desired state and applies
// only the difference, so a restart adopts what is there and an unchanged
// state costs no netlink writes. A dry-run Director keeps the state in memory
// and logs each operation in ipvsadm syntax.
package ipvs

import (
	"context"
	"net/netip"
)

// Protocol is "tcp" or "udp".
type Protocol string

const (
	TCP Protocol = "tcp"
	UDP Protocol = "udp"
)

// Forward is the packet-forwarding method of a destination.
type Forward string

const (
	DirectRoute Forward = "dr"  // ipvsadm -g (default, as PyBal)
	Tunnel      Forward = "tun" // ipvsadm -i
	Masquerade  Forward = "nat" // ipvsadm -m
)

// ServiceKey identifies a virtual service.
type ServiceKey struct {
	Protocol Protocol
	Addr     netip.Addr
	Port     uint16
}

// Service is a virtual service's own settings.
type Service struct {
	Key        ServiceKey
	Scheduler  string // rr wrr lc wlc lblc lblcr dh sh sed nq mh
	OnePacket  bool   // ops (UDP only)
	MHPort     bool   // mh-port
	MHFallback bool   // mh-fallback
}

// Destination is one real server of a service.
type Destination struct {
	Addr    netip.Addr
	Port    uint16
	Weight  uint32 // 0 is a real drain: no new connections, existing ones kept
	Forward Forward
}

// Desired is what one configured service should look like in the kernel.
// Destinations holds exactly the pooled servers.
type Desired struct {
	Service      Service
	Destinations []Destination
}

// DestinationStatus is a destination as the kernel has it, with counters.
type DestinationStatus struct {
	Destination
	ActiveConns   uint32
	InactiveConns uint32
}

// ServiceStatus is a service as the kernel has it.
type ServiceStatus struct {
	Service      Service
	Destinations []DestinationStatus
}

// Director is what the coordinator drives. Implementations: the kernel one
// (netlink, github.com/cloudflare/ipvs) and an in-memory dry run.
type Director interface {
	// Reconcile makes the kernel match desired for every service named in
	// desired: missing services are created, changed settings updated,
	// destinations added, updated or removed. Services not named are left
	// alone (and logged once). It returns the operations it applied, in
	// order; an unchanged state returns none and writes nothing.
	Reconcile(ctx context.Context, desired []Desired) ([]Op, error)
	// RemoveService deletes a service lvsd used to manage (e.g. dropped
	// from pybal.conf on reload). Absent services are not an error.
	RemoveService(ctx context.Context, key ServiceKey) error
	// Status lists the kernel's services (all of them) with counters.
	Status(ctx context.Context) ([]ServiceStatus, error)
	Close() error
}

// Op is one applied change; String renders it in ipvsadm syntax, e.g.
// "-a -t 10.2.2.1:80 -r 10.64.0.5:80 -g -w 10".
type Op struct {
	Kind        OpKind
	Service     Service
	Destination Destination // for destination ops
}

// OpKind enumerates the ipvsadm commands.
type OpKind string

const (
	AddService    OpKind = "-A"
	EditService   OpKind = "-E"
	DeleteService OpKind = "-D"
	AddDest       OpKind = "-a"
	EditDest      OpKind = "-e"
	DeleteDest    OpKind = "-d"
)
