package daemon

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/coordinator"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// pendingHosts are a ready service's enabled hosts that never resolved,
// and the addresses of its resolved ones.
type pendingHosts struct {
	key      ipvs.ServiceKey
	forward  ipvs.Forward
	index    int // in the desired slice
	hosts    []string
	resolved map[netip.Addr]bool
}

func pendingOf(snap coordinator.Snapshot, sc *config.Service) pendingHosts {
	p := pendingHosts{key: sc.Key, forward: sc.Forwarding, resolved: map[netip.Addr]bool{}}
	for _, s := range snap.Servers {
		switch {
		case s.Ready:
			p.resolved[s.Addr] = true
		case s.Enabled:
			p.hosts = append(p.hosts, s.Host)
		}
	}
	return p
}

// keepUnattributed adds to desired the kernel destinations of services
// with unresolved hosts that no resolved host accounts for: after a
// restart during a DNS failure they may be those hosts' (adopted from the
// previous run), and deleting them would drop live connections. They are
// kept at the kernel's weight until every enabled host resolved once or
// left the pool. Run loop only.
func (d *Daemon) keepUnattributed(ctx context.Context, desired []ipvs.Desired, pending []pendingHosts) {
	kept := map[string]bool{}
	defer func() { d.keptLogged = kept }()
	if len(pending) == 0 {
		return
	}
	status, err := d.director.Status(ctx)
	if err != nil {
		d.log.Error("IPVS status failed; destinations of unresolved hosts may be removed", "err", err)
		return
	}
	byKey := map[ipvs.ServiceKey]ipvs.ServiceStatus{}
	for _, st := range status {
		byKey[st.Service.Key] = st
	}
	for _, p := range pending {
		st, ok := byKey[p.key]
		if !ok {
			continue
		}
		want := &desired[p.index]
		have := map[netip.Addr]bool{}
		for _, dst := range want.Destinations {
			have[dst.Addr] = true
		}
		for _, kd := range st.Destinations {
			if p.resolved[kd.Addr] || have[kd.Addr] {
				continue
			}
			keep := kd.Destination
			keep.Forward = p.forward // the kernel may report "local"
			want.Destinations = append(want.Destinations, keep)
			id := fmt.Sprintf("%s %s", p.key, netip.AddrPortFrom(kd.Addr, kd.Port))
			kept[id] = true
			if !d.keptLogged[id] {
				d.log.Warn(fmt.Sprintf("Keeping IPVS destination %s of %s: host(s) %s have not resolved yet and it may be theirs",
					netip.AddrPortFrom(kd.Addr, kd.Port), p.key, strings.Join(p.hosts, ", ")))
			}
		}
	}
}
