// Package status renders `lvsd status`: IPVS's table in `ipvsadm -Ln`
// style joined with each real server's enabled/up/pooled state from the
// running daemon, flagging pooled servers that look like they refuse
// connections or lack the VIP.
package status

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/instrumentation"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// Pool is one configured service with its servers' states.
type Pool struct {
	Name    string
	Key     ipvs.ServiceKey
	Servers map[string]instrumentation.ServerState // by host
	Err     error                                  // fetching the state failed
	// NoState: the daemon was not asked, so the servers' states are
	// unknown (the IPVS table was read from the kernel).
	NoState bool
}

// Configured lists the configuration's services without their states.
func Configured(cfg *config.Config) []Pool {
	var pools []Pool
	for _, s := range cfg.Services {
		pools = append(pools, Pool{Name: s.Name, Key: s.Key})
	}
	return pools
}

// Collect asks the daemon at base (e.g. http://127.0.0.1:9090) for every
// configured service's pool and for the IPVS table.
func Collect(ctx context.Context, base string, cfg *config.Config) ([]Pool, []ipvs.ServiceStatus, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	pools := Configured(cfg)
	for i := range pools {
		p := &pools[i]
		p.Err = getJSON(ctx, c, base+"/pools/"+p.Name, &p.Servers)
	}
	var js []instrumentation.ServiceJSON
	if err := getJSON(ctx, c, base+"/ipvs", &js); err != nil {
		return pools, nil, err
	}
	return pools, instrumentation.FromJSON(js), nil
}

func getJSON(ctx context.Context, c *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// minPeerConns is the peers' mean connections per unit of weight (active
// for the first signature, inactive for the second) below which there is
// too little traffic to judge.
const minPeerConns = 5.0

// SuspiciousNote is what lvsd status and the status page say about a
// destination Suspicious flags.
const SuspiciousNote = "connections do not complete: refusing them, or VIP not bound?"

// Suspicious returns, for a TCP service, the destinations whose connection
// counters per weight show one of two signatures against their peers'
// means. Every scheduler is judged: each signature needs one counter
// normal and the other a tenth of the peers', which an uneven share of
// clients (sh, mh, dh) cannot make, as it scales both. A connection-count
// scheduler (lc, wlc, sed, nq) only makes the first signature stronger,
// sending ever more connections to a server whose connections end at once.
// UDP has no connection states to read.
//
//   - few active, normal inactive: active under a tenth of the peers', inactive at
//     least half. Connections end at once: a server that resets them, seen by the
//     director under NAT (and, before Linux 4.8, unanswered SYNs, then counted as
//     inactive).
//   - no inactive, normal active: inactive under a tenth of the peers', active at
//     least half. Connections never end: since Linux 4.8 a connection past its SYN
//     counts as active, and under direct routing or tunnelling the director sees only
//     the client's side, so a server that drops them (the VIP not bound) or resets
//     them (its RST goes straight to the client) holds only SYN_RECV entries, active
//     until they expire, and never a closing one.
func Suspicious(s ipvs.ServiceStatus) map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	if s.Service.Key.Protocol != ipvs.TCP {
		return out
	}
	var live []ipvs.DestinationStatus
	for _, d := range s.Destinations {
		if d.Weight > 0 {
			live = append(live, d)
		}
	}
	if len(live) < 2 {
		return out
	}
	for i, d := range live {
		var act, inact float64
		for j, p := range live {
			if j != i {
				act += float64(p.ActiveConns) / float64(p.Weight)
				inact += float64(p.InactiveConns) / float64(p.Weight)
			}
		}
		n := float64(len(live) - 1)
		act, inact = act/n, inact/n
		myAct := float64(d.ActiveConns) / float64(d.Weight)
		myInact := float64(d.InactiveConns) / float64(d.Weight)
		endAtOnce := act >= minPeerConns && myAct < act/10 && myInact >= inact/2
		neverEnd := (d.Forward == ipvs.DirectRoute || d.Forward == ipvs.Tunnel) && inact >= minPeerConns && myInact < inact/10 && myAct >= act/2
		if endAtOnce || neverEnd {
			out[d.Addr] = true
		}
	}
	return out
}

func forward(f ipvs.Forward) string {
	switch f {
	case ipvs.DirectRoute:
		return "Route"
	case ipvs.Tunnel:
		return "Tunnel"
	case ipvs.Masquerade:
		return "Masq"
	case ipvs.Local:
		return "Local"
	}
	return string(f)
}

func hostPort(a netip.Addr, port uint16) string { return netip.AddrPortFrom(a, port).String() }

// Render writes the table. Services of the kernel not in the
// configuration are listed as "not managed by lvsd".
func Render(w io.Writer, pools []Pool, kernel []ipvs.ServiceStatus) error {
	hostW := 4
	for _, p := range pools {
		for h := range p.Servers {
			hostW = max(hostW, len(h))
		}
	}
	var b strings.Builder
	row := func(lead, addr, fwd, weight, act, inact, host, state string) {
		fmt.Fprintf(&b, "  %s %-28s %-7s %-6s %-10s %-10s %-*s %s\n", lead, addr, fwd, weight, act, inact, hostW, host, state)
	}
	b.WriteString("Prot LocalAddress:Port Scheduler Flags\n")
	row("->", "RemoteAddress:Port", "Forward", "Weight", "ActiveConn", "InActConn", "Host", "State")
	byKey := map[ipvs.ServiceKey]ipvs.ServiceStatus{}
	for _, s := range kernel {
		byKey[s.Service.Key] = s
	}
	seen := map[ipvs.ServiceKey]bool{}
	for _, p := range pools {
		seen[p.Key] = true
		ks, inKernel := byKey[p.Key]
		sched := "-"
		if inKernel {
			sched = ks.Service.Scheduler
			if f := Flags(ks.Service); f != "" {
				sched += " " + f
			}
		}
		fmt.Fprintf(&b, "%-4s %s %s  [%s]\n", strings.ToUpper(string(p.Key.Protocol)), hostPort(p.Key.Addr, p.Key.Port), sched, p.Name)
		if p.Err != nil {
			fmt.Fprintf(&b, "  !! state unavailable: %v\n", p.Err)
		}
		if !inKernel {
			b.WriteString("  !! service not in IPVS\n")
		}
		unknown := p.NoState || p.Err != nil
		byAddr := map[netip.Addr]string{}
		for h, st := range p.Servers {
			if a, err := netip.ParseAddr(st.Address); err == nil {
				byAddr[a] = h
			}
		}
		sus := Suspicious(ks)
		listed := map[string]bool{}
		for _, d := range ks.Destinations {
			host, state := byAddr[d.Addr], "not in pool"
			if unknown {
				host, state = "?", "state unknown"
			} else if host != "" {
				listed[host] = true
				state = text(p.Servers[host])
			} else {
				host = "?"
			}
			if sus[d.Addr] {
				state += "  << " + SuspiciousNote
			}
			row("->", hostPort(d.Addr, d.Port), forward(d.Forward), fmt.Sprint(d.Weight), fmt.Sprint(d.ActiveConns), fmt.Sprint(d.InactiveConns), host, state)
		}
		var rest []string
		for h := range p.Servers {
			if !listed[h] {
				rest = append(rest, h)
			}
		}
		sort.Strings(rest)
		for _, h := range rest {
			st := p.Servers[h]
			addr := st.Address
			if addr == "" {
				addr = "(unresolved)"
			}
			state := text(st)
			if st.Pooled && inKernel {
				state += "  << pooled but missing from IPVS"
			}
			row("--", addr, "-", "-", "-", "-", h, state)
		}
	}
	for _, s := range kernel {
		if seen[s.Service.Key] {
			continue
		}
		fmt.Fprintf(&b, "%-4s %s %s  (not managed by lvsd)\n", strings.ToUpper(string(s.Service.Key.Protocol)),
			hostPort(s.Service.Key.Addr, s.Service.Key.Port), s.Service.Scheduler)
		for _, d := range s.Destinations {
			row("->", hostPort(d.Addr, d.Port), forward(d.Forward), fmt.Sprint(d.Weight), fmt.Sprint(d.ActiveConns), fmt.Sprint(d.InactiveConns), "", "")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Flags are a service's scheduler flags as lvsd status shows them (mh-fallback,mh-port,ops).
func Flags(s ipvs.Service) string {
	var f []string
	if s.MHFallback {
		f = append(f, "mh-fallback")
	}
	if s.MHPort {
		f = append(f, "mh-port")
	}
	if s.OnePacket {
		f = append(f, "ops")
	}
	return strings.Join(f, ",")
}

func text(s instrumentation.ServerState) string {
	e, u, p := "disabled", "down", "not pooled"
	if s.Enabled {
		e = "enabled"
	}
	if s.Up {
		u = "up"
	} else if s.Address == "" {
		u = "partial"
	}
	if s.Pooled {
		p = "pooled"
	}
	return e + "/" + u + "/" + p
}
