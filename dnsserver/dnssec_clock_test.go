package dnsserver

import (
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/dnsserver/rrl"
	"github.com/geotraffic/geotraffic/zones"
)

// clockDNSSEC records the signing time the answer path passes.
type clockDNSSEC struct {
	DNSSEC
	mu   sync.Mutex
	last time.Time
}

func (c *clockDNSSEC) Zone(z *zones.Zone) ZoneSigner {
	if zs := c.DNSSEC.Zone(z); zs != nil {
		return clockZoneSigner{zs, c}
	}
	return nil
}

func (c *clockDNSSEC) seen() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *clockDNSSEC) saw(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = now
}

type clockZoneSigner struct {
	ZoneSigner
	c *clockDNSSEC
}

func (z clockZoneSigner) StaticSigs(set *zones.RRset, now time.Time) [][]byte {
	z.c.saw(now)
	return z.ZoneSigner.StaticSigs(set, now)
}

func (z clockZoneSigner) Sigs(owner []byte, typ uint16, ttl uint32, rdata [][]byte, now time.Time) [][]byte {
	z.c.saw(now)
	return z.ZoneSigner.Sigs(owner, typ, ttl, rdata, now)
}

// A UDP reader reads the clock once per batch; a batch must not sign with
// the time of an earlier one, also after a reload turned rate limiting
// off (a stale time would keep serving signatures past their refresh).
func TestUDPSigningTimeIsThisBatchs(t *testing.T) {
	signed, d := signedSnapshot(t)
	clock := &clockDNSSEC{DNSSEC: d}
	limiter := rrl.New(rrl.Config{ResponsesPerSecond: rrl.MaxRate, NXDomainsPerSecond: rrl.MaxRate,
		ErrorsPerSecond: rrl.MaxRate, Window: 15, IPv4Prefix: 24, IPv6Prefix: 56, TableSize: 100}, nil, nil)
	withRRL := (&Snapshot{Zones: signed.Zones, Dyn: signed.Dyn, DNSSEC: clock, RRL: limiter}).Prepare()
	withoutRRL := (&Snapshot{Zones: signed.Zones, Dyn: signed.Dyn, DNSSEC: clock}).Prepare()

	// One socket: both queries reach the same reader and its worker.
	s := startServer(t, Config{Listen: []string{"127.0.0.1:0"}, UDPSockets: 1}, withRRL)
	addr := s.Addrs()[0].String()
	ask := func(name string) time.Time {
		t.Helper()
		before := time.Now()
		c := &dns.Client{Timeout: 5 * time.Second}
		r, _, err := c.Exchange(withDO(doQuery(name, dns.TypeA)), addr)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Answer) < 2 {
			t.Fatalf("%s: want a signed answer, got %v", name, r)
		}
		return before
	}
	before := ask("ns1.signed.test.")
	if got := clock.seen(); got.Before(before) {
		t.Fatalf("with rate limiting, signed at %v, before the query was sent (%v)", got, before)
	}
	s.Store(withoutRRL)
	before = ask("ns1.example.org.")
	if got := clock.seen(); got.Before(before) {
		t.Fatalf("after rate limiting was turned off, signed at %v, before the query was sent (%v)", got, before)
	}
}
