package webstatus

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/coordinator"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/status"
)

// View is what the page shows, built from the daemon's state.
type View struct {
	Alert    instrumentation.Alert // /alerts' answer
	IPVSErr  string                // reading the IPVS table failed
	Services []Service
	BGP      BGP
}

// Service is one configured service.
type Service struct {
	Name      string
	VIP       string // "TCP 10.2.2.1:80"
	Scheduler string // with its flags, as lvsd status shows them
	Threshold float64
	Headroom  int
	// HeadroomText says it in words ("2 more may be depooled").
	HeadroomText string
	// InIPVS is false when the IPVS table lacks the service (never when
	// the table could not be read).
	InIPVS  bool
	Servers []Server
	// Strays are IPVS destinations of the service that no server of the
	// pool has.
	Strays []Counters
}

// Server is one real server's row.
type Server struct {
	Host    string
	Address string // "" until resolved
	Enabled bool
	Up      bool
	Pooled  bool
	Weight  uint32
	// State is the row's CSS state: "up" (serving), "down" (a monitor
	// says so), "degraded" (up but not serving: disabled, not pooled, or
	// removed and kept for the threshold), "unknown" (not resolved yet).
	State  string
	Text   string // PyBal's enabled/up/pooled
	Notes  []string
	Checks []coordinator.Check
	IPVS   *Counters // nil when IPVS has no destination for it
}

// Counters are an IPVS destination's.
type Counters struct {
	Address          string
	Weight           uint32
	Active, Inactive uint32
	Suspicious       bool // lvsd status's anomaly flag
}

// BGP is the speaker's sessions and announced prefixes.
type BGP struct {
	Enabled bool
	Peers   []bgp.PeerStatus
	Routes  []bgp.Route
}

// Build joins the pools with the IPVS table (kernel; kernelErr when it
// could not be read) and the BGP speaker (nil when off).
func Build(alert instrumentation.Alert, pools []coordinator.Snapshot, kernel []ipvs.ServiceStatus, kernelErr error, ann bgp.Announcer) View {
	v := View{Alert: alert, Services: []Service{}}
	if kernelErr != nil {
		v.IPVSErr = kernelErr.Error()
	}
	byKey := map[ipvs.ServiceKey]ipvs.ServiceStatus{}
	for _, s := range kernel {
		byKey[s.Service.Key] = s
	}
	for _, p := range pools {
		ks, in := byKey[p.Service.Key]
		v.Services = append(v.Services, service(p, ks, in, kernelErr == nil))
	}
	if ann != nil {
		v.BGP = BGP{Enabled: true, Peers: ann.Peers(), Routes: ann.Routes()}
	}
	return v
}

// service builds a service's view; ks is its IPVS entry when in, and read
// says whether the IPVS table could be read at all.
func service(p coordinator.Snapshot, ks ipvs.ServiceStatus, in, read bool) Service {
	k := p.Service.Key
	s := Service{Name: p.Name, VIP: strings.ToUpper(string(k.Protocol)) + " " + netip.AddrPortFrom(k.Addr, k.Port).String(),
		Scheduler: p.Service.Scheduler, Threshold: p.DepoolThreshold, Headroom: p.Headroom,
		HeadroomText: headroomText(p), InIPVS: in || !read}
	if f := status.Flags(p.Service); f != "" {
		s.Scheduler += " " + f
	}
	sus := status.Suspicious(ks)
	dests := map[netip.Addr]ipvs.DestinationStatus{}
	for _, d := range ks.Destinations {
		dests[d.Addr] = d
	}
	pooledDown := map[string]bool{}
	for _, h := range p.PooledDown {
		pooledDown[h] = true
	}
	for _, srv := range p.Servers {
		row := server(srv, pooledDown[srv.Host])
		if d, ok := dests[srv.Addr]; ok && srv.Ready {
			row.IPVS = counters(d, sus[d.Addr])
			delete(dests, srv.Addr)
			if row.IPVS.Suspicious {
				row.Notes = append(row.Notes, status.SuspiciousNote)
			}
		} else if srv.Pooled && srv.Ready && in {
			row.Notes = append(row.Notes, "pooled but missing from IPVS")
		}
		s.Servers = append(s.Servers, row)
	}
	for _, d := range ks.Destinations {
		if _, stray := dests[d.Addr]; stray {
			s.Strays = append(s.Strays, *counters(d, sus[d.Addr]))
		}
	}
	return s
}

func counters(d ipvs.DestinationStatus, suspicious bool) *Counters {
	return &Counters{Address: netip.AddrPortFrom(d.Addr, d.Port).String(), Weight: d.Weight, Active: d.ActiveConns,
		Inactive: d.InactiveConns, Suspicious: suspicious}
}

func server(s coordinator.Server, pooledDown bool) Server {
	row := Server{Host: s.Host, Enabled: s.Enabled, Up: s.Up, Pooled: s.Pooled, Weight: s.Weight, Text: s.TextStatus(),
		Checks: s.Checks, State: "degraded"}
	if s.Ready {
		row.Address = s.Addr.String()
	}
	switch {
	case !s.Ready:
		row.State = "unknown"
	case !s.Up:
		row.State = "down"
	case s.Enabled && s.Pooled && !s.Removed:
		row.State = "up"
	}
	if pooledDown && !s.Up {
		row.Notes = append(row.Notes, "down but pooled: the depool threshold keeps it")
	}
	if pooledDown && !s.Enabled {
		row.Notes = append(row.Notes, "disabled but pooled: the depool threshold keeps it")
	}
	if s.Removed {
		row.Notes = append(row.Notes, "removed from the pool, kept pooled by the depool threshold")
	}
	if s.Manual != nil {
		row.Notes = append(row.Notes, s.Manual.String())
	}
	if s.Adopted {
		row.Notes = append(row.Notes, "adopted from IPVS until its first check")
	}
	return row
}

// headroomText says how many more servers may be depooled.
func headroomText(p coordinator.Snapshot) string {
	switch {
	case len(p.Servers) == 0:
		return "no servers"
	case p.Headroom == 0:
		return "no more may be depooled: the next server down stays pooled"
	case p.DepoolThreshold == 0:
		return fmt.Sprintf("all %d may be depooled (no threshold)", p.Headroom)
	}
	return fmt.Sprintf("%d more may be depooled", p.Headroom)
}
