package authdns

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/dnsserver/rrl"
)

func TestRRLConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig("/etc/x/authdns.yaml", []byte("listen: [\"127.0.0.1:53\"]\nzones: z\nrrl:\n  responses_per_second: 7\n  exempt: [192.0.2.0/24, \"2001:db8::1\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := rrl.Config{ResponsesPerSecond: 7, NXDomainsPerSecond: 7, ErrorsPerSecond: 7, Window: 15, Slip: 2,
		IPv4Prefix: 24, IPv6Prefix: 56, TableSize: 20000,
		Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::1/128")}}
	if !cfg.RRL.Equal(&want) {
		t.Fatalf("got %+v, want %+v", *cfg.RRL, want)
	}
	cfg, err = ParseConfig("/etc/x/authdns.yaml", []byte("listen: [\"127.0.0.1:53\"]\nzones: z\n"))
	if err != nil || cfg.RRL != nil {
		t.Fatalf("without rrl: rate limiting must be off: %v, %+v", err, cfg.RRL)
	}
}

func TestRRLConfigErrors(t *testing.T) {
	yaml := "listen: [\"127.0.0.1:53\"]\nzones: z\nrrl:\n  nxdomains_per_second: -1\n  slip: 11\n  ipv4_prefix: 33\n" +
		"  exempt: [10.0.0.0/33]\n  log_only: maybe\n  window: 0\n  bogus: 1\n"
	_, err := ParseConfig("/etc/x/authdns.yaml", []byte(yaml))
	if err == nil {
		t.Fatal("bad rrl settings accepted")
	}
	got := strings.Split(err.Error(), "\n")
	for _, want := range []string{
		"/etc/x/authdns.yaml:4: rrl.responses_per_second: required",
		"/etc/x/authdns.yaml:4: rrl.nxdomains_per_second: want a whole number from 0 to",
		"/etc/x/authdns.yaml:5: rrl.slip: want a whole number from 0 to 10",
		"/etc/x/authdns.yaml:6: rrl.ipv4_prefix: want a whole number from 8 to 32",
		"/etc/x/authdns.yaml:7: rrl.exempt: \"10.0.0.0/33\" is not a network",
		"/etc/x/authdns.yaml:8: rrl.log_only: want true or false",
		"/etc/x/authdns.yaml:9: rrl.window: want a whole number from 1 to 3600",
		"/etc/x/authdns.yaml:10: rrl.bogus",
	} {
		if !slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("missing %q in:\n%s", want, err)
		}
	}
}
