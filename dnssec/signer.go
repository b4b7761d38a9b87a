// Package dnssec signs the answers of the zones that have active keys:
// it pre-signs every static RRset when a zone set is loaded, builds the
// apex DNSKEY, CDS and CDNSKEY sets from the key state, and signs the
// per-client (DYNA/DYNC) and denial RRsets on the fly through a bounded
// cache keyed by the RRset's content.
package dnssec

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/zones"
)

// Options tune signing; a zero field takes its default.
type Options struct {
	// Validity is how long a signature is valid from now (default 14
	// days, as Knot); each RRset's expiration is up to 6 hours earlier
	// (a deterministic jitter) so that expiries spread out.
	Validity time.Duration
	// Refresh is when a signature is made again (default 7 days): a
	// static set is re-signed when authdns rebuilds the signer at Next,
	// a cached one on its first use past it.
	Refresh time.Duration
	// DNSKEYTTL is the TTL of the DNSKEY, CDS and CDNSKEY sets (default
	// 3600).
	DNSKEYTTL uint32
	// CacheEntries bounds the on-the-fly signature cache (default
	// 100000). An entry is its key (about 30 bytes plus the owner and
	// RDATA) and one RRSIG per signing key (about 100 bytes for 13 and
	// 15): some 300 bytes, so 30 MB at the default.
	CacheEntries int
	// Workers is how many sets are signed at once, both when pre-signing
	// and on cache misses (default GOMAXPROCS). A miss beyond it waits:
	// however many UDP readers and TCP connections miss together (a flood
	// of random names denied by NSEC), signing takes at most this many
	// cores.
	Workers int
}

// Defaults.
const (
	DefaultValidity     = 14 * 24 * time.Hour
	DefaultRefresh      = 7 * 24 * time.Hour
	DefaultDNSKEYTTL    = 3600
	DefaultCacheEntries = 100000
)

// inceptionSkew backdates inception for resolvers whose clock is behind.
const inceptionSkew = time.Hour

// maxJitter caps how much earlier than Validity a signature may expire.
const maxJitter = 6 * time.Hour

func (o Options) withDefaults() (Options, error) {
	if o.Validity == 0 {
		o.Validity = DefaultValidity
	}
	if o.Refresh == 0 {
		o.Refresh = DefaultRefresh
	}
	if o.DNSKEYTTL == 0 {
		o.DNSKEYTTL = DefaultDNSKEYTTL
	}
	if o.CacheEntries == 0 {
		o.CacheEntries = DefaultCacheEntries
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case o.Validity < 0 || o.Refresh < 0:
		return o, fmt.Errorf("validity %v and refresh %v must not be negative", o.Validity, o.Refresh)
	case o.CacheEntries < 0 || o.Workers < 0:
		return o, fmt.Errorf("cache entries %d and workers %d must not be negative", o.CacheEntries, o.Workers)
	case o.Refresh >= o.Validity:
		return o, fmt.Errorf("refresh %v must be shorter than validity %v", o.Refresh, o.Validity)
	}
	return o, nil
}

// Signer signs the zones of one zone set with the key state of one
// instant; authdns builds a new one at Next. It implements
// dnsserver.DNSSEC and is safe for concurrent use.
type Signer struct {
	opt     Options
	zones   map[*zones.Zone]*zoneSigner
	next    time.Time
	cache   *cache
	sem     chan struct{} // bounds concurrent signing
	presign time.Duration
	static  int

	signatures, signErrors atomic.Uint64
}

var _ dnsserver.DNSSEC = (*Signer)(nil)

// New signs the zones of set that have keys in zoneKeys (keyed by
// canonical zone name) active at now: the apex key sets and every static
// RRset are signed before it returns. Zones without signing keys are
// served unsigned.
func New(set *zones.Set, zoneKeys map[string]*keys.ZoneKeys, opt Options, now time.Time, log *slog.Logger) (*Signer, error) {
	states := make(map[string]keys.State, len(zoneKeys))
	for name, zk := range zoneKeys {
		states[name] = zk.At(now)
	}
	return newSigner(set, states, opt, now, log)
}

// newSigner is New with the key states already worked out.
func newSigner(set *zones.Set, states map[string]keys.State, opt Options, now time.Time, log *slog.Logger) (*Signer, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Signer{
		opt:   opt,
		zones: map[*zones.Zone]*zoneSigner{},
		cache: newCache(opt.CacheEntries),
		sem:   make(chan struct{}, opt.Workers),
	}
	var errs []error
	for i, z := range set.Zones() {
		st, ok := states[z.Name]
		if !ok {
			continue
		}
		s.next = earliest(s.next, st.Next)
		if !st.Signing() {
			log.Debug("dnssec: zone has keys but none active, serving it unsigned", "zone", z.Name)
			continue
		}
		zs, err := newZoneSigner(s, uint32(i), z, st)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.zones[z] = zs
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := s.presignAll(now); err != nil {
		return nil, err
	}
	s.presign = time.Since(start)
	if len(s.zones) > 0 {
		s.next = earliest(s.next, now.Add(opt.Refresh))
	}
	log.Info("dnssec: zones signed", "zones", len(s.zones), "sets", s.static,
		"signatures", s.signatures.Load(), "seconds", s.presign.Seconds())
	return s, nil
}

// earliest is the earlier of a and b, a zero time meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// Zone returns z's signer, or nil when z is not signed.
func (s *Signer) Zone(z *zones.Zone) dnsserver.ZoneSigner {
	if s == nil {
		return nil
	}
	if zs, ok := s.zones[z]; ok {
		return zs
	}
	return nil
}

// Next is when the signer must be rebuilt: the next key timing event of
// any zone with keys, or when the pre-signed sets are due for refresh,
// whichever is first. Zero: never.
func (s *Signer) Next() time.Time { return s.next }

// Stats are the signer's counters, for metrics.
type Stats struct {
	Zones          int           // signed zones
	StaticSets     int           // static sets pre-signed
	Presign        time.Duration // time taken to pre-sign them
	Signatures     uint64        // signatures made, pre-signing included
	SignErrors     uint64        // sets that could not be signed (answered SERVFAIL)
	CacheHits      uint64
	CacheMisses    uint64
	CacheEvictions uint64
	CacheEntries   int
}

// Stats returns the counters so far.
func (s *Signer) Stats() Stats {
	st := Stats{
		Zones:      len(s.zones),
		StaticSets: s.static,
		Presign:    s.presign,
		Signatures: s.signatures.Load(),
		SignErrors: s.signErrors.Load(),
	}
	st.CacheHits, st.CacheMisses, st.CacheEvictions, st.CacheEntries = s.cache.counts()
	return st
}

// jitter is how much earlier than Validity a set's signatures expire:
// deterministic per owner and type (FNV-1a), so that a set signed again
// keeps its place, and spread up to a quarter of the time between
// refresh and expiry, capped at maxJitter.
func (s *Signer) jitter(owner []byte, typ uint16) time.Duration {
	span := min(maxJitter, (s.opt.Validity-s.opt.Refresh)/4)
	if span <= 0 {
		return 0
	}
	h := uint64(14695981039346656037)
	for _, c := range owner {
		h = (h ^ uint64(c)) * 1099511628211
	}
	h = (h ^ uint64(typ>>8)) * 1099511628211
	h = (h ^ uint64(typ&0xff)) * 1099511628211
	return time.Duration(h % uint64(span/time.Second) * uint64(time.Second))
}
