package authdns

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDNSSECConfig(t *testing.T) {
	yaml := "listen: [\"127.0.0.1:53\"]\nzones: z\ndnssec:\n  keys: keys\n  validity: 1d12h\n  refresh: 12h\n  dnskey_ttl: 300\n" +
		"  zones:\n    Example.ORG: {keys: /k/org}\n    example.net.: {sign: false}\n"
	cfg, err := ParseConfig("/etc/x/authdns.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.DNSSEC
	if c.Keys != "/etc/x/keys" || c.Validity != 36*time.Hour || c.Refresh != 12*time.Hour || c.DNSKEYTTL != 300 ||
		c.CacheEntries != DefaultSigCacheEntries {
		t.Fatalf("got %+v", c)
	}
	for zone, want := range map[string]string{"example.org.": "/k/org", "example.net.": "", "example.com.": "/etc/x/keys"} {
		if got := c.KeyDir(zone); got != want {
			t.Errorf("KeyDir(%s) = %q, want %q", zone, got, want)
		}
	}
	if got := c.KeyDirs(); !slices.Equal(got, []string{"/etc/x/keys", "/k/org"}) {
		t.Errorf("KeyDirs = %v", got)
	}

	cfg, err = ParseConfig("/etc/x/authdns.yaml", []byte("listen: [\"127.0.0.1:53\"]\nzones: z\ndnssec: {keys: k}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.DNSSEC; c.Validity != 14*24*time.Hour || c.Refresh != 7*24*time.Hour || c.DNSKEYTTL != 3600 {
		t.Fatalf("defaults: got %+v", c)
	}
	cfg, err = ParseConfig("/etc/x/authdns.yaml", []byte("listen: [\"127.0.0.1:53\"]\nzones: z\n"))
	if err != nil || cfg.DNSSEC != nil || cfg.DNSSEC.KeyDir("example.org.") != "" {
		t.Fatalf("without dnssec nothing is signed: %v %+v", err, cfg.DNSSEC)
	}
}

func TestDNSSECConfigErrors(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"dnssec: keys\n", "/etc/x/authdns.yaml:3: dnssec: expected a mapping"},
		{"dnssec:\n  keys: \"\"\n", "/etc/x/authdns.yaml:4: dnssec.keys: want a directory"},
		{"dnssec:\n  validity: 2w\n", "/etc/x/authdns.yaml:4: dnssec.validity: want a duration such as 14d"},
		{"dnssec:\n  validity: 10s\n", "/etc/x/authdns.yaml:4: dnssec.validity: want a duration such as 14d"},
		{"dnssec:\n  validity: 7d\n  refresh: 7d\n", "/etc/x/authdns.yaml:5: dnssec.refresh: must be shorter than validity (7d)"},
		{"dnssec:\n  validity: 5d\n", "/etc/x/authdns.yaml:4: dnssec.refresh: must be shorter than validity (5d)"},
		{"dnssec:\n  dnskey_ttl: 0\n", "/etc/x/authdns.yaml:4: dnssec.dnskey_ttl: want a TTL in seconds"},
		{"dnssec:\n  signature_cache: many\n", "/etc/x/authdns.yaml:4: dnssec.signature_cache: want a number"},
		{"dnssec:\n  nsec3: true\n", "/etc/x/authdns.yaml:4: dnssec.nsec3: unknown key"},
		{"dnssec:\n  zones: [a]\n", "/etc/x/authdns.yaml:4: dnssec.zones: expected a mapping of zone names"},
		{"dnssec:\n  zones:\n    a..b: {}\n", "/etc/x/authdns.yaml:5: dnssec.zones.a..b: not a zone name"},
		{"dnssec:\n  zones:\n    a: {sign: maybe}\n", "/etc/x/authdns.yaml:5: dnssec.zones.a.sign: want true or false"},
		{"dnssec:\n  zones:\n    a: {sign: false, keys: k}\n", "/etc/x/authdns.yaml:5: dnssec.zones.a: has both keys and sign: false"},
		{"dnssec:\n  zones:\n    a: {nsec: 1}\n", "/etc/x/authdns.yaml:5: dnssec.zones.a.nsec: unknown key (expected keys or sign)"},
		{"dnssec:\n  zones:\n    a: {}\n    A.: {}\n", "/etc/x/authdns.yaml:6: dnssec.zones.A.: the zone is listed twice"},
	} {
		_, err := ParseConfig("/etc/x/authdns.yaml", []byte("listen: [\"127.0.0.1:53\"]\nzones: z\n"+tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q", tt.yaml, err, tt.want)
		}
	}
}

// FuzzDNSSECConfig feeds `dnssec:` sections to the config parser: it must
// not panic, and what it accepts must be usable.
func FuzzDNSSECConfig(f *testing.F) {
	for _, s := range []string{"{keys: k}", "{keys: k, validity: 1d12h, refresh: 36h, dnskey_ttl: 60}",
		"{validity: 10d, refresh: 9d23h59m}", "{zones: {example.org: {keys: k2}, example.net: {sign: false}}}",
		"{validity: 99999999d}", "{refresh: -1d}", "{validity: 1d-5h}", "{zones: {.: {}}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, section string) {
		cfg, err := ParseConfig("/etc/x/authdns.yaml", []byte("listen: [\"127.0.0.1:53\"]\nzones: z\ndnssec: "+section+"\n"))
		if err != nil || cfg.DNSSEC == nil {
			return
		}
		c := cfg.DNSSEC
		if c.Refresh < minSigRefresh || c.Refresh >= c.Validity || c.DNSKEYTTL == 0 || c.CacheEntries < 1 {
			t.Fatalf("accepted %q as %+v", section, c)
		}
		for zone := range c.Zones {
			c.KeyDir(zone)
		}
	})
}
