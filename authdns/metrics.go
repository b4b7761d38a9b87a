package authdns

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/geo"
	"github.com/geotraffic/geotraffic/internal/version"
)

// collector turns the answer path's atomic counters into Prometheus series
// at scrape time, so the answer path never touches a label.
type collector struct {
	d *Daemon

	queries, edns, ecs, dropped, truncated, dyn, hits  *prometheus.Desc
	tcpConns, tcpAccepted, tcpRejected                 *prometheus.Desc
	tcpClosedIdle, tcpPerClient                        *prometheus.Desc
	reloads, lastReload, serial, forced, forcedEntries *prometheus.Desc
	unmatched                                          *prometheus.Desc
	info, uptime, adminWatching                        *prometheus.Desc
	etcdConnected, etcdRevision, etcdRelists, etcdRej  *prometheus.Desc
	healthSwaps, healthGen, monitoredDown              *prometheus.Desc
	cookies                                            *prometheus.Desc
}

func newCollector(d *Daemon) *collector {
	n := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("authdns_"+name, help, labels, nil)
	}
	return &collector{
		d:             d,
		queries:       n("queries_total", "Answered queries by protocol, query type and response code.", "protocol", "qtype", "rcode"),
		edns:          n("edns_queries_total", "Queries with an EDNS OPT record."),
		ecs:           n("ecs_queries_total", "Queries with an EDNS Client Subnet option."),
		dropped:       n("dropped_total", "Packets dropped without an answer (no header, or QR set)."),
		truncated:     n("truncated_total", "UDP answers sent with TC=1."),
		hits:          n("answer_cache_hits_total", "UDP answers replayed from a socket's cache of static responses."),
		dyn:           n("dyn_answers_total", "DYNA/DYNC resolutions by reason and chosen data centre.", "reason", "dc"),
		tcpConns:      n("tcp_connections", "Open TCP connections."),
		tcpAccepted:   n("tcp_connections_accepted_total", "TCP connections accepted."),
		tcpRejected:   n("tcp_connections_rejected_total", "TCP connections closed at once, by the limit reached: max_tcp_clients (no connection idle) or max_tcp_clients_per_ip.", "reason"),
		tcpClosedIdle: n("tcp_connections_closed_idle_total", "Idle TCP connections closed to make room, the pool being over 3/4 of max_tcp_clients."),
		tcpPerClient:  n("tcp_connections_max_per_client", "Most open TCP connections held by one client network (as max_tcp_clients_per_ip counts them)."),
		reloads:       n("reloads_total", "Reloads and rollout commits by result.", "result"),
		lastReload:    n("last_reload_timestamp_seconds", "Time of the last reload or commit by result.", "result"),
		serial:        n("zone_serial", "SOA serial of each served zone.", "zone"),
		forced:        n("admin_state_forced", "Forced admin_state entries now in force (1 per pattern).", "pattern", "state"),
		forcedEntries: n("admin_state_entries", "Number of admin_state entries in force."),
		unmatched:     n("admin_state_unmatched_entries", "admin_state entries (file and etcd) whose key or glob matches nothing the geoip configuration knows: they change nothing (a typo?)."),
		info:          n("build_info", "Version and digests of what is served.", "version", "config_digest", "zones_digest", "data_digest", "admin_state_digest"),
		uptime:        n("uptime_seconds", "Seconds since the daemon started serving."),
		adminWatching: n("admin_state_watching", "1 while the admin_state file's directory is watched; 0 while it cannot be (the file is re-read every second until it can)."),
		// The names and meanings of etcdstore.RegisterMetrics, for the
		// follower of the moment: a reload may replace it.
		etcdConnected: n("etcd_connected", "1 while etcd answers; 0 while the last good state is kept without it."),
		etcdRevision:  n("etcd_revision", "etcd revision of the state applied last."),
		etcdRelists:   n("etcd_relists_total", "Full re-reads of etcd after an outage or a compaction."),
		etcdRej:       n("etcd_rejected_values_total", "etcd values ignored because they do not parse (the object kept its previous value)."),
		healthSwaps:   n("health_view_swaps_total", "Health views swapped into the answer path after a monitored state changed."),
		healthGen:     n("health_view_generation", "Generation of the health snapshot the answers follow."),
		cookies:       n("cookie_queries_total", "Queries with a DNS COOKIE option, by what it carried: a client cookie only, a valid server cookie, or an invalid or expired one (BADCOOKIE over UDP).", "cookie"),
		monitoredDown: n("monitored_down", "1 when a resource's data centre is DOWN by its health checks (before admin_state).", "resource", "dc"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.queries, c.edns, c.ecs, c.dropped, c.truncated, c.hits, c.dyn, c.tcpConns,
		c.tcpAccepted, c.tcpRejected, c.tcpClosedIdle, c.tcpPerClient, c.reloads, c.lastReload, c.serial, c.forced, c.forcedEntries, c.unmatched, c.info, c.uptime,
		c.adminWatching, c.etcdConnected, c.etcdRevision, c.etcdRelists, c.etcdRej, c.healthSwaps, c.healthGen, c.monitoredDown, c.cookies} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	d := c.d
	t := d.srv.Stats()
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	for p := range dnsserver.NumProtos {
		for q := range dnsserver.NumQtypes {
			for r := range dnsserver.NumRcodes {
				// Zero series are left out: 300 mostly-empty
				// combinations would drown the useful ones.
				if v := t.QueryCount(p, q, r); v > 0 {
					counter(c.queries, v, dnsserver.ProtoNames[p], dnsserver.QtypeNames[q], dnsserver.RcodeNames[r])
				}
			}
		}
	}
	counter(c.edns, t.EDNS)
	counter(c.ecs, t.ECS)
	counter(c.dropped, t.Dropped)
	counter(c.truncated, t.Truncated)
	counter(c.hits, t.CacheHits)
	counter(c.cookies, t.CookieClientOnly, "client_only")
	counter(c.cookies, t.CookieValid, "valid")
	counter(c.cookies, t.CookieInvalid, "invalid")
	for r := range dnsserver.NumDynReasons {
		for slot := range dnsserver.MaxDCSlots {
			if v := t.DynCount(r, slot); v > 0 {
				counter(c.dyn, v, reasonName(r), d.slots.Name(slot))
			}
		}
	}
	gauge(c.tcpConns, float64(d.srv.TCPConns()))
	counter(c.tcpAccepted, t.TCPAccepted)
	counter(c.tcpRejected, t.TCPRejected, dnsserver.TCPRefusalNames[dnsserver.RefusedMaxTCPClients])
	counter(c.tcpRejected, t.TCPRejectedPerIP, dnsserver.TCPRefusalNames[dnsserver.RefusedMaxTCPClientsPerIP])
	counter(c.tcpClosedIdle, t.TCPClosedIdle)
	gauge(c.tcpPerClient, float64(d.srv.TCPMaxPerClient()))
	counter(c.reloads, d.reloadOK.Load(), "success")
	counter(c.reloads, d.reloadFail.Load(), "failure")
	gauge(c.lastReload, float64(d.lastReloadOK.Load())/1e9, "success")
	gauge(c.lastReload, float64(d.lastReloadFail.Load())/1e9, "failure")
	st := d.state.Load()
	for _, z := range st.Zones.Zones() {
		gauge(c.serial, float64(z.Serial), z.Name)
	}
	seen := map[string]bool{}
	if st.Admin != nil {
		for i := len(st.Admin.Entries) - 1; i >= 0; i-- { // the last line wins
			e := st.Admin.Entries[i]
			if !seen[e.Pattern] {
				seen[e.Pattern] = true
				gauge(c.forced, 1, e.Pattern, e.StateString())
			}
		}
	}
	gauge(c.forcedEntries, float64(st.Admin.Len()))
	gauge(c.unmatched, float64(len(st.AdminUnmatched)))
	_, dataDigest, _ := liveData(st)
	gauge(c.info, 1, version.Version, short(st.Config.Digest), short(st.Zones.Digest), short(dataDigest), short(st.AdminFile.Digest))
	gauge(c.uptime, d.Uptime().Seconds())
	if w := d.adminLive.Load(); w != nil {
		gauge(c.adminWatching, boolGauge(w.Watching()))
	}
	if d.Health != nil {
		counter(c.healthSwaps, d.healthSwaps.Load())
		gauge(c.healthGen, float64(st.Health.Snapshot().Generation()))
		d.collectMonitored(st, func(res, dc string, down bool) { gauge(c.monitoredDown, boolGauge(down), res, dc) })
	}
	if e := d.etcdStatus(st); e != nil {
		connected := 0.0
		if e.Connected {
			connected = 1
		}
		gauge(c.etcdConnected, connected)
		gauge(c.etcdRevision, float64(e.Revision))
		counter(c.etcdRelists, uint64(e.Relists))
		counter(c.etcdRej, uint64(e.Rejected))
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func reasonName(r int) string { return geo.Reason(r).String() }
