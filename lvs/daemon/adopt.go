package daemon

import (
	"context"
	"net/netip"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// kernelDestinations reads what IPVS has at start-up, by service: address
// to weight. The coordinators of services the kernel already has keep
// each server's entry until its first check (coordinator.Adopt), so a
// restart does not pool again, for a monitor interval, backends the
// previous run had taken out. Without the kernel's view (an error), the
// servers start optimistic, as PyBal's do.
func (d *Daemon) kernelDestinations(ctx context.Context) map[ipvs.ServiceKey]map[netip.Addr]uint32 {
	status, err := d.director.Status(ctx)
	if err != nil {
		d.log.Warn("IPVS status failed at start-up; servers start up until their first check instead of keeping the kernel's state", "err", err)
		return nil
	}
	out := map[ipvs.ServiceKey]map[netip.Addr]uint32{}
	for _, st := range status {
		dests := map[netip.Addr]uint32{}
		for _, dst := range st.Destinations {
			dests[dst.Addr] = dst.Weight
		}
		out[st.Service.Key] = dests
	}
	return out
}
