// Package instrumentation serves lvsd's PyBal-compatible HTTP API: /pools,
// /pools/<svc>, /pools/<svc>/<host>, /alerts and /metrics, plus /bgp and
// /ipvs (lvsd additions). JSON is returned when the client accepts
// application/json, PyBal's text forms otherwise.
package instrumentation

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/netip"
	"strings"

	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/coordinator"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// State is what the API reports; the daemon implements it.
type State interface {
	// Pools lists the services' snapshots in configuration order.
	Pools() []coordinator.Snapshot
	// Announcer is the BGP speaker, nil when BGP is off.
	Announcer() bgp.Announcer
	// IPVSStatus is the Director's view of the kernel (or dry run).
	IPVSStatus(ctx context.Context) ([]ipvs.ServiceStatus, error)
}

// ServerState is PyBal's per-server JSON, plus the address lvsd resolved
// (an addition; PyBal clients ignore unknown keys).
type ServerState struct {
	Pooled  bool   `json:"pooled"`
	Weight  uint32 `json:"weight"`
	Up      bool   `json:"up"`
	Enabled bool   `json:"enabled"`
	Address string `json:"address,omitempty"`
	// Removed (an lvsd addition): no longer in the pool, kept pooled by
	// the depool threshold.
	Removed bool `json:"removed,omitempty"`
	// Manual (an lvsd addition): "manually depooled by USER: REASON"
	// while lvsd ctl depool holds the server out.
	Manual string `json:"manual,omitempty"`
}

func stateOf(s coordinator.Server) ServerState {
	st := ServerState{Pooled: s.Pooled, Weight: s.Weight, Up: s.Up, Enabled: s.Enabled, Removed: s.Removed}
	if s.Manual != nil {
		st.Manual = s.Manual.String()
	}
	if s.Ready {
		st.Address = s.Addr.String()
	}
	return st
}

// Alert is /alerts' JSON.
type Alert struct {
	Status string `json:"status"`
	Msg    string `json:"msg"`
}

// SourceState is a State that also reports problems of its pool sources
// (the daemon does): by service name, what is wrong, e.g. "etcd source
// etcd://... unreachable for 1m5s; keeping the last pool (revision 42)".
type SourceState interface {
	State
	PoolSourceAlerts() map[string]string
}

// RefusalState is a State that also reports pool sources whose current
// document is refused (the daemon does): by service name, e.g. "pool
// source file:///etc/pybal/pools/x refused, keeping the last good pool (3
// servers): 1 bad line(s), the first at line 1: ...".
type RefusalState interface {
	State
	PoolSourceRefusals() map[string]string
}

// Alerts computes PyBal's alert: critical when servers are pooled but
// down, warning when a pool is too small to allow depooling.
func Alerts(pools []coordinator.Snapshot) Alert { return AlertsWith(pools, nil) }

// AlertsWith is Alerts where sources maps a service name to a problem of its
// pool source; each is a warning of its own ("Pool X: <problem>. "), as are
// disabled servers kept pooled by the depool threshold.
func AlertsWith(pools []coordinator.Snapshot, sources map[string]string) Alert {
	return AlertsFor(pools, sources, nil)
}

// AlertsFor is AlertsWith where refused maps a service name to the refusal
// of its pool source's document: critical ("svc: <refusal>"), since the
// service no longer follows its source. Removed servers kept pooled by the
// depool threshold are a warning, as held disabled ones are.
func AlertsFor(pools []coordinator.Snapshot, sources, refused map[string]string) Alert {
	a := Alert{Status: "ok"}
	var crit []string
	warn := func(format string, args ...any) {
		a.Status = "warning"
		a.Msg += fmt.Sprintf(format, args...)
	}
	for _, p := range pools {
		total := len(p.Servers)
		if note := sources[p.Name]; note != "" {
			warn("Pool %s: %s. ", p.Name, note)
		}
		if len(p.Held) > 0 {
			warn("Pool %s: disabled servers %s kept pooled by the depool threshold. ", p.Name, strings.Join(p.Held, ", "))
		}
		for _, s := range p.Servers {
			if s.Manual != nil {
				warn("Pool %s: server %s %s. ", p.Name, s.Host, s.Manual)
			}
		}
		if len(p.Removed) > 0 {
			warn("Pool %s: removed servers %s kept pooled by the depool threshold. ", p.Name, strings.Join(p.Removed, ", "))
		}
		if msg := refused[p.Name]; msg != "" {
			crit = append(crit, fmt.Sprintf("%s: %s", p.Name, msg))
		}
		// No pooled weight means IPVS sends the service no new
		// connection, whatever the depool threshold says.
		if total > 0 && p.PooledWeight == 0 {
			crit = append(crit, fmt.Sprintf("%s: no pooled server has a weight above 0", p.Name))
		}
		switch {
		case len(p.PooledDown) > 0:
			crit = append(crit, fmt.Sprintf("%s: Servers %s are marked down but pooled", p.Name, strings.Join(p.PooledDown, ", ")))
		case total == 0 && (sources[p.Name] != "" || refused[p.Name] != ""):
			// The source's problem says why the pool is empty.
		case float64(total) < float64(total)*p.DepoolThreshold+1:
			warn("Pool %s is too small to allow depooling. ", p.Name)
		}
	}
	if len(crit) > 0 {
		a.Status, a.Msg = "critical", strings.Join(crit, "; ")
	}
	if a.Status == "ok" {
		a.Msg = "All pools are healthy"
	}
	return a
}

// StateAlert is /alerts' answer for pools, a snapshot of st's: with st's
// pool sources' problems and refusals when it reports them.
func StateAlert(st State, pools []coordinator.Snapshot) Alert {
	return AlertsFor(pools, sourceAlerts(st), sourceRefusals(st))
}

// sourceAlerts asks st for its pool sources' problems, when it knows them.
func sourceAlerts(st State) map[string]string {
	if ss, ok := st.(SourceState); ok {
		return ss.PoolSourceAlerts()
	}
	return nil
}

// sourceRefusals asks st for its refused pool documents, when it knows them.
func sourceRefusals(st State) map[string]string {
	if rs, ok := st.(RefusalState); ok {
		return rs.PoolSourceRefusals()
	}
	return nil
}

// BGPState is /bgp's JSON.
type BGPState struct {
	Enabled bool             `json:"enabled"`
	Peers   []bgp.PeerStatus `json:"peers"`
	Routes  []bgp.Route      `json:"routes"`
}

// Handler returns the API's handler; gatherer serves /metrics.
func Handler(st State, gatherer prometheus.Gatherer) http.Handler {
	metrics := promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		switch {
		case parts[0] == "metrics" && len(parts) == 1:
			metrics.ServeHTTP(w, r)
		case parts[0] == "alerts" && len(parts) == 1:
			a := StateAlert(st, st.Pools())
			reply(w, r, a, strings.ToUpper(a.Status)+" - "+a.Msg)
		case parts[0] == "pools":
			servePools(w, r, st, parts[1:])
		case parts[0] == "bgp" && len(parts) == 1:
			serveBGP(w, r, st)
		case parts[0] == "ipvs" && len(parts) == 1:
			serveIPVS(w, r, st)
		case parts[0] == "ipvs" && len(parts) == 2 && parts[1] == "drift":
			serveDrift(w, r, st)
		default:
			notFound(w, r)
		}
	})
}

func servePools(w http.ResponseWriter, r *http.Request, st State, rest []string) {
	pools := st.Pools()
	if len(rest) == 0 || rest[0] == "" {
		names := make([]string, 0, len(pools))
		for _, p := range pools {
			names = append(names, p.Name)
		}
		reply(w, r, names, strings.Join(names, "\n")+"\n")
		return
	}
	var pool *coordinator.Snapshot
	for i := range pools {
		if pools[i].Name == rest[0] {
			pool = &pools[i]
		}
	}
	if pool == nil || len(rest) > 2 {
		notFound(w, r)
		return
	}
	if len(rest) == 1 || rest[1] == "" {
		js := map[string]ServerState{}
		var text strings.Builder
		for _, s := range pool.Servers {
			js[s.Host] = stateOf(s)
			fmt.Fprintf(&text, "%s:\t%s\n", s.Host, textLine(s))
		}
		reply(w, r, js, text.String())
		return
	}
	for _, s := range pool.Servers {
		if s.Host == rest[1] {
			reply(w, r, stateOf(s), textLine(s)+"\n")
			return
		}
	}
	notFound(w, r)
}

// textLine is PyBal's status text, plus the manual depool in force.
func textLine(s coordinator.Server) string {
	if s.Manual != nil {
		return s.TextStatus() + " (" + s.Manual.String() + ")"
	}
	return s.TextStatus()
}

func serveBGP(w http.ResponseWriter, r *http.Request, st State) {
	a := st.Announcer()
	s := BGPState{Peers: []bgp.PeerStatus{}, Routes: []bgp.Route{}}
	if a != nil {
		s.Enabled = true
		s.Peers = append(s.Peers, a.Peers()...)
		s.Routes = append(s.Routes, a.Routes()...)
	}
	var text strings.Builder
	if !s.Enabled {
		text.WriteString("BGP disabled\n")
	}
	for _, p := range s.Peers {
		fmt.Fprintf(&text, "peer %s: %s\n", p.Address, p.State)
	}
	for _, rt := range s.Routes {
		fmt.Fprintf(&text, "route %s med %d\n", rt.Prefix, rt.MED)
	}
	reply(w, r, s, text.String())
}

// DestinationJSON and ServiceJSON are /ipvs' JSON.
type DestinationJSON struct {
	Address       netip.Addr   `json:"address"`
	Port          uint16       `json:"port"`
	Weight        uint32       `json:"weight"`
	Forward       ipvs.Forward `json:"forward"`
	ActiveConns   uint32       `json:"active_conns"`
	InactiveConns uint32       `json:"inactive_conns"`
}

type ServiceJSON struct {
	Protocol     ipvs.Protocol     `json:"protocol"`
	Address      netip.Addr        `json:"address"`
	Port         uint16            `json:"port"`
	Scheduler    string            `json:"scheduler"`
	OnePacket    bool              `json:"ops,omitempty"`
	MHPort       bool              `json:"mh_port,omitempty"`
	MHFallback   bool              `json:"mh_fallback,omitempty"`
	Destinations []DestinationJSON `json:"destinations"`
}

// ToJSON converts Director status.
func ToJSON(st []ipvs.ServiceStatus) []ServiceJSON {
	out := []ServiceJSON{}
	for _, s := range st {
		sj := ServiceJSON{Protocol: s.Service.Key.Protocol, Address: s.Service.Key.Addr, Port: s.Service.Key.Port,
			Scheduler: s.Service.Scheduler, OnePacket: s.Service.OnePacket, MHPort: s.Service.MHPort, MHFallback: s.Service.MHFallback,
			Destinations: []DestinationJSON{}}
		for _, d := range s.Destinations {
			sj.Destinations = append(sj.Destinations, DestinationJSON{Address: d.Addr, Port: d.Port, Weight: d.Weight, Forward: d.Forward,
				ActiveConns: d.ActiveConns, InactiveConns: d.InactiveConns})
		}
		out = append(out, sj)
	}
	return out
}

// FromJSON converts back (for lvsd status).
func FromJSON(in []ServiceJSON) []ipvs.ServiceStatus {
	var out []ipvs.ServiceStatus
	for _, s := range in {
		ss := ipvs.ServiceStatus{Service: ipvs.Service{Key: ipvs.ServiceKey{Protocol: s.Protocol, Addr: s.Address, Port: s.Port},
			Scheduler: s.Scheduler, OnePacket: s.OnePacket, MHPort: s.MHPort, MHFallback: s.MHFallback}}
		for _, d := range s.Destinations {
			ss.Destinations = append(ss.Destinations, ipvs.DestinationStatus{
				Destination: ipvs.Destination{Addr: d.Address, Port: d.Port, Weight: d.Weight, Forward: d.Forward},
				ActiveConns: d.ActiveConns, InactiveConns: d.InactiveConns})
		}
		out = append(out, ss)
	}
	return out
}

func serveIPVS(w http.ResponseWriter, r *http.Request, st State) {
	status, err := st.IPVSStatus(r.Context())
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	js := ToJSON(status)
	var text strings.Builder
	for _, s := range js {
		// AddrPort writes IPv6 as [addr]:port, as ipvsadm does.
		fmt.Fprintf(&text, "%s %s %s\n", strings.ToUpper(string(s.Protocol)), netip.AddrPortFrom(s.Address, s.Port), s.Scheduler)
		for _, d := range s.Destinations {
			fmt.Fprintf(&text, "  -> %s %s %d %d %d\n", netip.AddrPortFrom(d.Address, d.Port), d.Forward, d.Weight, d.ActiveConns, d.InactiveConns)
		}
	}
	reply(w, r, js, text.String())
}

// WantJSON reports whether the client asked for application/json.
func WantJSON(r *http.Request) bool { return Accepts(r, "application/json") }

// Accepts reports whether the request's Accept header names mediaType
// (wildcards are not expanded).
func Accepts(r *http.Request, mediaType string) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == mediaType {
				return true
			}
		}
	}
	return false
}

func reply(w http.ResponseWriter, r *http.Request, js any, text string) {
	if WantJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(js)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, text)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	const msg = "The desired url was not found"
	if WantJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"error": msg})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, msg)
}
