package gdnsddiffe2e

import (
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/miekg/dns"
)

// phase is a batch of queries asked under one admin_state. The first
// phase runs under the fixture's own admin_state; each later one first
// writes its state into both servers' files and waits until a probe
// whose answer that state changes has changed on each.
type phase struct {
	name    string
	state   string // admin_state text; "" for the first phase
	probe   query
	queries []query
	note    string
}

// scenarios are the admin_state changes, in order: each probe's answer
// (data or TTL) differs from the one under the previous scenario.
var scenarios = []struct {
	name, state string
	probe       query
}{
	{"map level: esams DOWN", `# maintenance
geoip/generic-map/magru => DOWN
geoip/generic-map/esams => DOWN   # Amsterdam goes to drmrs
`, probe("en.example.org.", dns.TypeA, "192.0.2.0/26")},
	{"resource level beats map level, in any order", `geoip/text-addrs/esams => UP   ; before the map line: still wins
geoip/generic-map/esams => DOWN
geoip/upload-addrs/eqiad => DOWN/120
geoip/generic-map/magru => DOWN
`, probe("en.example.org.", dns.TypeA, "192.0.2.0/26")},
	{"metafo", `metafo/disc-api-rw/eqiad => DOWN/30
metafo/disc-search/eqiad => DOWN
metafo/disc-mw-rw/codfw => DOWN
metafo/disc-failoid/eqiad => DOWN
metafo/disc-failoid/codfw => DOWN
`, probe("api-rw.svc.example.com.", dns.TypeA, "")},
	{"globs", `geoip/*/codfw => DOWN
geoip/text*/ulsfo => DOWN/60
metafo/*/eqiad => DOWN
geoip/discovery-map/eqiad => DOWN
`, probe("en.example.org.", dns.TypeA, "198.51.100.0/26")},
	{"every site of a resource DOWN, addresses DOWN", `geoip/text-addrs/* => DOWN
172.31.9.1/up => DOWN
172.31.9.2/up => DOWN
10.2.2.22/up => DOWN
geoip/cdn-cname/esams => DOWN
text-lb.eqsin.example.net./up => DOWN
`, probe("en.example.org.", dns.TypeA, "198.51.100.0/26")},
	{"forced TTLs", `geoip/generic-map/* => DOWN/300
geoip/text-addrs/eqsin => UP/45
metafo/disc-api-rw/* => UP/20
`, probe("upload.example.org.", dns.TypeA, "203.0.113.0/27")},
	{"cleared", `# nothing forced
`, probe("upload.example.org.", dns.TypeA, "203.0.113.0/27")},
}

func probe(name string, t uint16, ecs string) query {
	q := query{Name: name, Qtype: t, Qclass: dns.ClassINET, ID: 4242, EDNS: true, BufSize: 1232, Feature: "probe"}
	if ecs != "" {
		q.ECS = netip.MustParsePrefix(ecs)
	}
	return q
}

// buildPlan spreads total queries over the phases: half to the first
// phase (every name × common type, the protocol corner cases, then
// random dynamic queries), half over the admin_state scenarios (dynamic
// names with ECS). When the first phase's half is smaller than its sweep,
// the sweep is cut after a shuffle, so every kind of name is still asked.
func buildPlan(rng *rand.Rand, ts []target, ecs *ecsSource, total int) []phase {
	var dyn []target
	for _, t := range ts {
		if t.dynamic {
			dyn = append(dyn, t)
		}
	}
	perScenario := total / 2 / len(scenarios)
	first := total - perScenario*len(scenarios)

	p0 := phase{name: "fixture admin_state"}
	p0.queries = specials(rng, "example.org.")
	var sweep []query
	for _, t := range ts {
		for _, qt := range t.types {
			pct := 10
			if t.dynamic {
				pct = 85
			}
			sweep = append(sweep, vary(rng, query{Name: t.name, Qtype: qt, Feature: t.feature}, ecs, pct))
		}
	}
	rng.Shuffle(len(sweep), func(i, j int) { sweep[i], sweep[j] = sweep[j], sweep[i] })
	all := len(sweep)
	p0.note = fmt.Sprintf("every name x common type: %d queries", all)
	if room := first - len(p0.queries); all > room {
		sweep = sweep[:max(room, 0)]
		p0.note = fmt.Sprintf("every name x common type: %d of %d queries (raise DIFF_QUERIES to ask all)", len(sweep), all)
	}
	p0.queries = append(p0.queries, sweep...)
	for len(p0.queries) < first {
		p0.queries = append(p0.queries, dynamicQuery(rng, dyn, ts, ecs))
	}
	plan := []phase{p0}
	for _, s := range scenarios {
		p := phase{name: s.name, state: s.state, probe: s.probe}
		for i := 0; i < perScenario; i++ {
			p.queries = append(p.queries, dynamicQuery(rng, dyn, ts, ecs))
		}
		plan = append(plan, p)
	}
	return plan
}

// dynamicQuery is mostly an A or AAAA query for a dynamic name with ECS,
// sometimes any common type at any name.
func dynamicQuery(rng *rand.Rand, dyn, all []target, ecs *ecsSource) query {
	if rng.IntN(10) == 0 || len(dyn) == 0 {
		t := all[rng.IntN(len(all))]
		return vary(rng, query{Name: t.name, Qtype: t.types[rng.IntN(len(t.types))], Feature: t.feature}, ecs, 50)
	}
	t := dyn[rng.IntN(len(dyn))]
	qt := dns.TypeA
	switch x := rng.IntN(20); {
	case x < 8:
		qt = dns.TypeAAAA
	case x == 8:
		qt = dns.TypeANY
	case x == 9:
		qt = dns.TypeCNAME
	case x == 10:
		qt = dns.TypeTXT
	}
	return vary(rng, query{Name: t.name, Qtype: qt, Feature: t.feature}, ecs, 90)
}
