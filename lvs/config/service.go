package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/pool"
	"github.com/geotraffic/geotraffic/lvs/pylit"
)

// parseService reads a service section; it is nil when a key was bad
// (every problem is recorded).
func (c *Config) parseService(r *reader) *Service {
	s := r.s
	svc := &Service{Name: s.Name, Pos: s.Pos, MonitorOptions: map[string]map[string]Option{}}
	c.serviceKey(r, svc)
	if sched, ok := r.opt("scheduler"); !ok {
		r.missing("scheduler")
	} else if svc.Scheduler = strings.ToLower(sched.Value); !ipvs.ValidScheduler(svc.Scheduler) {
		r.errorf(sched, "scheduler", "unknown scheduler %q (want rr wrr lc wlc lblc lblcr dh sh sed nq mh)", sched.Value)
	}
	svc.OnePacket = r.boolean("ops", false)
	if svc.OnePacket && !r.bad["protocol"] && svc.Key.Protocol != ipvs.UDP {
		r.errorf(s.Opts["ops"], "ops", "one-packet scheduling is for UDP services only")
	}
	svc.MHPort = r.boolean("mh-port", false)
	svc.MHFallback = r.boolean("mh-fallback", false)
	for k, on := range map[string]bool{"mh-port": svc.MHPort, "mh-fallback": svc.MHFallback} {
		if on && !r.bad["scheduler"] && svc.Scheduler != "mh" {
			r.errorf(s.Opts[k], k, "only valid with scheduler = mh")
		}
	}
	c.poolSource(r, svc)
	svc.DepoolThreshold = 0.5
	if o, ok := r.opt("depool-threshold"); ok {
		f, err := strconv.ParseFloat(o.Value, 64)
		if err != nil || f < 0 || f > 1 {
			r.errorf(o, "depool-threshold", "must be a number from 0 to 1, not %q", o.Value)
		} else {
			svc.DepoolThreshold = f
		}
	}
	monitors(r, svc)
	c.serviceBGP(r, svc)
	serviceForwarding(r, svc)
	for _, k := range []string{"rise", "fall"} {
		n := r.uint(k, 1, 16)
		if n < 1 || n > 100 {
			r.errorf(s.Opts[k], k, "must be 1-100")
		}
		if k == "rise" {
			svc.Rise = int(n)
		} else {
			svc.Fall = int(n)
		}
	}
	svc.DrainOnDepool = r.boolean("drain-on-depool", false)
	svc.PoolPollInterval = r.interval("pool-poll-interval", c.Global.PoolPollInterval)
	svc.PoolTLSInsecure = r.boolean("pool-tls-insecure", false)
	if o, ok := s.Opts["pool-tls-insecure"]; ok && svc.PoolTLSInsecure && !svc.PoolHTTPS() && !s.fromDefault["pool-tls-insecure"] {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: pool-tls-insecure: [%s] has no effect: its pool source is not https://", o.Pos, s.Name))
	}
	r.unknown(c, "["+s.Name+"]")
	if r.failed() {
		return nil
	}
	return svc
}

// serviceKey reads protocol, ip and port.
func (c *Config) serviceKey(r *reader, svc *Service) {
	if proto, ok := r.opt("protocol"); !ok {
		r.missing("protocol")
	} else {
		switch strings.ToLower(proto.Value) {
		case "tcp":
			svc.Key.Protocol = ipvs.TCP
		case "udp":
			svc.Key.Protocol = ipvs.UDP
		default:
			r.errorf(proto, "protocol", "must be tcp or udp, not %q", proto.Value)
		}
	}
	if ip, ok := r.opt("ip"); !ok {
		r.missing("ip")
	} else if a, err := netip.ParseAddr(ip.Value); err != nil || a.Zone() != "" {
		r.errorf(ip, "ip", "bad IP address %q", ip.Value)
	} else {
		svc.Key.Addr, svc.IPPos = a.Unmap(), ip.Pos
	}
	if o, ok := r.opt("port"); !ok {
		r.missing("port")
	} else if port := r.uint("port", 0, 16); port == 0 && !r.bad["port"] {
		r.errorf(o, "port", "must be 1-65535")
	} else {
		svc.Key.Port = uint16(port)
	}
}

// poolSource reads config, the pool's URL.
func (c *Config) poolSource(r *reader, svc *Service) {
	cfgURL, ok := r.opt("config")
	if !ok {
		r.missing("config")
		return
	}
	if err := checkPoolURL(cfgURL.Value); err != nil {
		r.errorf(cfgURL, "config", "%v", err)
		return
	}
	svc.PoolURL, svc.PoolURLPos = cfgURL.Value, cfgURL.Pos
	if !pool.IsEtcdURL(cfgURL.Value) {
		return
	}
	var err error
	if svc.Etcd, err = pool.ParseEtcdURL(cfgURL.Value); err != nil {
		r.errorf(cfgURL, "config", "%v", err)
		return
	}
	if !svc.Etcd.TLS && c.Global.Etcd.TLSSet() {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: config: [%s] etcd:// is plain HTTP: etcd-cacert, etcd-cert and etcd-key "+
			"apply to etcds:// pools only", cfgURL.Pos, svc.Name))
	}
}

// monitors reads the monitor list and the "<monitor>.<option>" keys.
func monitors(r *reader, svc *Service) {
	if o, ok := r.opt("monitors"); ok {
		l, err := pylit.StringList(o.Value)
		if err != nil {
			r.errorf(o, "monitors", "%v", err)
		} else {
			svc.Monitors, svc.MonitorsPos = l, o.Pos
		}
		seen := map[string]bool{}
		for _, m := range l {
			if seen[strings.ToLower(m)] {
				r.errorf(o, "monitors", "monitor %s listed twice", m)
			}
			seen[strings.ToLower(m)] = true
		}
	}
	for _, k := range r.s.Keys {
		mon, opt, found := strings.Cut(k, ".")
		if !found {
			continue
		}
		r.used[k] = true
		if svc.MonitorOptions[mon] == nil {
			svc.MonitorOptions[mon] = map[string]Option{}
		}
		svc.MonitorOptions[mon][opt] = r.s.Opts[k]
	}
}

// serviceBGP reads the service's bgp, bgp-med and bgp-withdraw-on-down.
func (c *Config) serviceBGP(r *reader, svc *Service) {
	svc.BGP = r.boolean("bgp", true)
	svc.BGPMED, svc.BGPMEDPos = c.Global.BGP.MED, r.s.Pos
	if o, ok := r.opt("bgp-med"); ok {
		n, err := strconv.ParseUint(o.Value, 10, 32)
		if err != nil {
			r.errorf(o, "bgp-med", "not an unsigned 32-bit integer: %q", o.Value)
		} else {
			svc.BGPMED, svc.BGPMEDPos = uint32(n), o.Pos
		}
	}
	svc.BGPWithdrawOnDown = r.boolean("bgp-withdraw-on-down", c.Global.BGPWithdrawOnDown)
}

// serviceForwarding reads forwarding and realserver-port.
func serviceForwarding(r *reader, svc *Service) {
	fwd, fpos := r.str("forwarding", "dr")
	switch f := ipvs.Forward(strings.ToLower(fwd)); f {
	case ipvs.DirectRoute, ipvs.Tunnel, ipvs.Masquerade:
		svc.Forwarding = f
	default:
		r.errorf(Option{Pos: fpos}, "forwarding", "must be dr, tun or nat, not %q", fwd)
	}
	rp := r.uint("realserver-port", 0, 16)
	svc.RealserverPort = uint16(rp)
	if rp != 0 && !r.bad["forwarding"] && !r.bad["port"] && svc.Forwarding != ipvs.Masquerade && uint16(rp) != svc.Key.Port {
		r.errorf(r.s.Opts["realserver-port"], "realserver-port", "a different real-server port needs forwarding = nat (dr and tun keep the VIP port)")
	}
}

// checkPoolURL accepts the schemes lvsd can read.
func checkPoolURL(u string) error {
	for _, p := range []string{"file://", "http://", "https://", "etcd://", "etcds://"} {
		if strings.HasPrefix(u, p) && len(u) > len(p) {
			return nil
		}
	}
	return fmt.Errorf("pool source %q: want a file://, http://, https://, etcd:// or etcds:// URL", u)
}
