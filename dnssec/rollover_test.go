package dnssec

import (
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/miekg/dns"
)

// A ZSK rollover by pre-publication, driven by the keys' timing alone: the
// new ZSK is published before it signs, the old one stays published after
// it stops signing, and Next says when each step happens.
func TestZSKRollover(t *testing.T) {
	set := loadZone(t, "example.org", testZone)
	z := set.Zone("example.org.")
	day := 24 * time.Hour
	gen := func(alg uint8, flags uint16) *keys.Key {
		k, err := keys.Generate("example.org.", alg, flags, testNow.Add(-30*day))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ksk, zsk1, zsk2 := gen(dns.ECDSAP256SHA256, 257), gen(dns.ECDSAP256SHA256, 256), gen(dns.ED25519, 256)
	zsk1.Timing.Inactive, zsk1.Timing.Delete = testNow.Add(day), testNow.Add(3*day)
	zsk2.Timing.Publish, zsk2.Timing.Activate = testNow.Add(-day), testNow.Add(day)
	zk := map[string]*keys.ZoneKeys{"example.org.": {Zone: "example.org.", Keys: []*keys.Key{ksk, zsk1, zsk2}}}

	for _, step := range []struct {
		at     time.Time
		keys   int
		zsk    *keys.Key
		next   time.Time
		refers string
	}{
		{testNow, 3, zsk1, testNow.Add(day), "new ZSK published, old signs"},
		{testNow.Add(day), 3, zsk2, testNow.Add(3 * day), "new ZSK signs, old still published"},
		{testNow.Add(3 * day), 2, zsk2, testNow.Add(10 * day), "old ZSK deleted; next: refresh"},
	} {
		s, err := New(set, zk, Options{}, step.at, nil)
		if err != nil {
			t.Fatal(err)
		}
		zs := s.Zone(z)
		dnskey, _, _ := zs.Apex()
		if len(dnskey.RData) != step.keys {
			t.Errorf("%s: %d DNSKEYs, want %d", step.refers, len(dnskey.RData), step.keys)
		}
		verifyAt(t, step.at, zs.StaticSigs(dnskey, step.at), "example.org.", dns.TypeDNSKEY, dnskey.TTL, dnskey.RData, ksk)
		verifyAt(t, step.at, zs.StaticSigs(z.SOA, step.at), "example.org.", dns.TypeSOA, z.SOA.TTL, z.SOA.RData, step.zsk)
		a := rdataOf(t, "x. A 192.0.2.10")
		verifyAt(t, step.at, zs.Sigs(wire(t, "geo.example.org."), dns.TypeA, 60, a, step.at), "geo.example.org.", dns.TypeA, 60, a, step.zsk)
		if !s.Next().Equal(step.next) {
			t.Errorf("%s: Next %v, want %v", step.refers, s.Next(), step.next)
		}
	}
}
