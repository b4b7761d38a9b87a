package authdns

import (
	"sort"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// dnssecCollector exports the signer's counters, summed over the signers
// a key change or refresh replaced, and what each key does.
type dnssecCollector struct {
	d                                      *Daemon
	sigs, sigErrors, hits, misses, evicted *prometheus.Desc
	entries, presign, staticSets           *prometheus.Desc
	signedZones, nextEvent, keyState       *prometheus.Desc
}

func newDNSSECCollector(d *Daemon) *dnssecCollector {
	n := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("authdns_dnssec_"+name, help, labels, nil)
	}
	return &dnssecCollector{d: d,
		sigs:        n("signatures_total", "RRSIGs made: static sets at load and refresh, and answers made per query on a cache miss."),
		sigErrors:   n("sign_errors_total", "RRsets that could not be signed (each answered SERVFAIL)."),
		hits:        n("signature_cache_hits_total", "Signatures of answers made per query (DYNA, DYNC, denials) found in the cache."),
		misses:      n("signature_cache_misses_total", "Signatures of answers made per query that had to be made."),
		evicted:     n("signature_cache_evictions_total", "Signatures dropped from the full cache to make room."),
		entries:     n("signature_cache_entries", "Signatures held in the cache (bounded by dnssec.signature_cache)."),
		presign:     n("presign_seconds", "How long signing the static sets of the signed zones took, the last time."),
		staticSets:  n("presigned_sets", "Static RRsets of the signed zones signed ahead of queries."),
		signedZones: n("signed_zones", "Zones whose keys sign now."),
		nextEvent:   n("next_event_timestamp_seconds", "When the keys' next timing event or the next signature refresh re-signs the zones (0: none)."),
		keyState:    n("key", "1 for each key found for a served zone, by what it does: active, published, retired, revoked, unpublished or deleted.", "zone", "tag", "alg", "role", "state"),
	}
}

func (c *dnssecCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sigs, c.sigErrors, c.hits, c.misses, c.evicted, c.entries, c.presign, c.staticSets,
		c.signedZones, c.nextEvent, c.keyState} {
		ch <- d
	}
}

func (c *dnssecCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.d.state.Load()
	if st.Signing == nil {
		return // no `dnssec:` section: no series
	}
	counter := func(desc *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v))
	}
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	s := c.d.signerStats()
	counter(c.sigs, s.Signatures)
	counter(c.sigErrors, s.SignErrors)
	counter(c.hits, s.CacheHits)
	counter(c.misses, s.CacheMisses)
	counter(c.evicted, s.CacheEvictions)
	gauge(c.entries, float64(s.CacheEntries))
	gauge(c.presign, s.Presign.Seconds())
	gauge(c.staticSets, float64(s.StaticSets))
	gauge(c.signedZones, float64(signedZones(st.Signing)))
	next := 0.0
	if t := st.Signing.Next(); !t.IsZero() {
		next = float64(t.UnixNano()) / 1e9
	}
	gauge(c.nextEvent, next)
	views := st.Signing.keyViews()
	files := make([]string, 0, len(views))
	for f := range views {
		files = append(files, f)
	}
	sort.Strings(files)
	seen := map[keyView]bool{}
	for _, f := range files {
		v := views[f]
		v.file = ""
		if !seen[v] { // two files of one tag would repeat a series
			seen[v] = true
			gauge(c.keyState, 1, v.zone, strconv.Itoa(int(v.tag)), strconv.Itoa(int(v.alg)), v.role, v.phase)
		}
	}
}
