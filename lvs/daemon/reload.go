package daemon

import (
	"reflect"
	"slices"

	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/monitor"
)

// serviceKeys names, in pybal.conf's terms, the config.Service fields a
// reload compares, and whether a change needs the service's goroutines
// (pool watcher, resolution, monitors) restarted. The others are applied
// in place by the coordinator or read at the next route computation.
var serviceKeys = []struct {
	key     string
	restart bool
	get     func(*config.Service) any
}{
	{"protocol/ip/port", true, func(s *config.Service) any { return s.Key }},
	{"config", true, func(s *config.Service) any { return s.PoolURL }},
	{"pool-poll-interval", true, func(s *config.Service) any { return s.PoolPollInterval }},
	{"pool-tls-insecure", true, func(s *config.Service) any { return s.PoolTLSInsecure }},
	{"rise", true, func(s *config.Service) any { return s.Rise }},
	{"fall", true, func(s *config.Service) any { return s.Fall }},
	{"realserver-port", true, func(s *config.Service) any { return s.RealserverPort }},
	{"scheduler", false, func(s *config.Service) any { return s.Scheduler }},
	{"ops", false, func(s *config.Service) any { return s.OnePacket }},
	{"mh-port", false, func(s *config.Service) any { return s.MHPort }},
	{"mh-fallback", false, func(s *config.Service) any { return s.MHFallback }},
	{"depool-threshold", false, func(s *config.Service) any { return s.DepoolThreshold }},
	{"drain-on-depool", false, func(s *config.Service) any { return s.DrainOnDepool }},
	{"forwarding", false, func(s *config.Service) any { return s.Forwarding }},
	{"bgp", false, func(s *config.Service) any { return s.BGP }},
	{"bgp-med", false, func(s *config.Service) any { return s.BGPMED }},
	{"bgp-withdraw-on-down", false, func(s *config.Service) any { return s.BGPWithdrawOnDown }},
}

// changedKeys lists the keys whose effective values differ (values
// derived from [global] defaults included: only a real change counts).
func changedKeys(a, b *config.Service, aSpecs, bSpecs []monitor.Spec) []string {
	var out []string
	for _, k := range serviceKeys {
		if k.get(a) != k.get(b) {
			out = append(out, k.key)
		}
	}
	if !slices.Equal(a.Monitors, b.Monitors) || !specsEqual(aSpecs, bSpecs) {
		out = append(out, "monitors")
	}
	return out
}

// needsRestart reports whether a change touches what the service's
// goroutines use.
func needsRestart(a, b *config.Service, aSpecs, bSpecs []monitor.Spec) bool {
	for _, k := range serviceKeys {
		if k.restart && k.get(a) != k.get(b) {
			return true
		}
	}
	return !slices.Equal(a.Monitors, b.Monitors) || !specsEqual(aSpecs, bSpecs)
}

// globalChanges says what a reload does with each changed [global] key:
// the running [global] is kept, but bgp-med, bgp-withdraw-on-down and
// pool-poll-interval are also per-service defaults, so services that do
// not set their own pick the new value up now, and the etcd client keys
// restart the etcd services (a rotated certificate or password must not
// wait for a restart of lvsd; Reload also notices new file contents).
func globalChanges(old, cur config.Global) []string {
	var out []string
	later := func(what string) {
		out = append(out, "[global] "+what+" changed: takes effect at the next restart")
	}
	now := func(what string) {
		out = append(out, "[global] "+what+" changed: applied now to the services that do not set their own")
	}
	if old.Instrumentation != cur.Instrumentation || old.InstrumentationPort != cur.InstrumentationPort ||
		!slices.Equal(old.InstrumentationIPs, cur.InstrumentationIPs) {
		later("instrumentation")
	}
	ob, cb := old.BGP, cur.BGP
	ob.MED, cb.MED = 0, 0
	if !reflect.DeepEqual(ob, cb) {
		later("BGP session setting (bgp, bgp-local-asn, peers, next hops, communities, ...)")
	}
	if old.DNSRefreshInterval != cur.DNSRefreshInterval {
		later("dns-refresh-interval")
	}
	if old.ResyncInterval != cur.ResyncInterval {
		later("ipvs-resync-interval")
	}
	if old.BGP.MED != cur.BGP.MED {
		now("bgp-med")
	}
	if old.BGPWithdrawOnDown != cur.BGPWithdrawOnDown {
		now("bgp-withdraw-on-down")
	}
	if old.PoolPollInterval != cur.PoolPollInterval {
		now("pool-poll-interval")
	}
	if old.PoolCAFile != cur.PoolCAFile {
		out = append(out, "[global] pool-ca-file changed: applied now, the https:// services verifying their pool source "+
			"restart their pool watcher with it (pools and server states kept)")
	}
	if !old.Etcd.Equal(cur.Etcd) {
		out = append(out, "[global] etcd-cacert/-cert/-key/-user/-password-file changed: applied now, "+
			"the etcd:// and etcds:// services reconnect with them (pools and server states kept)")
	}
	return out
}
