package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/geotraffic/geotraffic/authdns"
	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/geotraffic/geotraffic/internal/cli"
	"github.com/miekg/dns"
)

// runDNSSEC runs `authdns dnssec keygen|ds`.
func runDNSSEC(o *options, args []string, now time.Time, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return cli.Fail(stderr, "authdns dnssec", cli.Usagef("missing command: want keygen or ds"))
	}
	switch args[0] {
	case "keygen":
		return keygen(o, args[1:], now, stdout, stderr)
	case "ds":
		return printDS(o, args[1:], now, stdout, stderr)
	}
	return cli.Fail(stderr, "authdns dnssec", cli.Usagef("unknown command %q: want keygen or ds", args[0]))
}

// keygen writes a new key pair as dnssec-keygen does and prints its base
// name.
func keygen(o *options, args []string, now time.Time, stdout, stderr io.Writer) int {
	const name = "authdns dnssec keygen"
	k, err := newKey(o, args, now)
	if err != nil {
		return cli.Fail(stderr, name, err)
	}
	dir, err := keyDir(o, k.DNSKEY.Hdr.Name)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return cli.ExitError
	}
	base, err := k.Write(dir)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return cli.ExitError
	}
	fmt.Fprintln(stdout, filepath.Base(base))
	return cli.ExitOK
}

// newKey generates the key the command line asks for; every error is a
// usage error.
func newKey(o *options, args []string, now time.Time) (*keys.Key, error) {
	if err := cli.Args(args, 1, 1, "ZONE"); err != nil {
		return nil, err
	}
	if _, ok := dns.IsDomainName(args[0]); !ok {
		return nil, cli.Usagef("zone %q is not a domain name", args[0])
	}
	flags := uint16(dns.ZONE | dns.SEP)
	switch n := btoi(o.csk) + btoi(o.ksk) + btoi(o.zsk); {
	case n > 1:
		return nil, cli.Usagef("--csk, --ksk and --zsk exclude each other")
	case o.zsk:
		flags = dns.ZONE
	}
	if o.alg != uint(dns.ECDSAP256SHA256) && o.alg != uint(dns.ED25519) {
		return nil, cli.Usagef("--alg %d: want 13 (ECDSAP256SHA256) or 15 (ED25519)", o.alg)
	}
	k, err := keys.Generate(args[0], uint8(o.alg), flags, now)
	if err != nil {
		return nil, cli.Usagef("%v", err)
	}
	for _, f := range []struct {
		flag, value string
		field       *time.Time
	}{
		{"publish", o.publish, &k.Timing.Publish},
		{"activate", o.activate, &k.Timing.Activate},
		{"inactive", o.inactive, &k.Timing.Inactive},
		{"delete", o.deleteAt, &k.Timing.Delete},
	} {
		if f.value == "" {
			continue
		}
		if *f.field, err = keys.ParseTime(f.value, now); err != nil {
			return nil, cli.Usagef("--%s: %v", f.flag, err)
		}
	}
	// A key published later than now would otherwise be active (and so
	// published) now.
	if o.activate == "" && k.Timing.Publish.After(k.Timing.Activate) {
		k.Timing.Activate = k.Timing.Publish
	}
	tm := k.Timing
	if notAfter(tm.Inactive, tm.Activate) || notAfter(tm.Delete, tm.Publish) || notAfter(tm.Delete, tm.Inactive.Add(-time.Second)) {
		return nil, cli.Usagef("the dates are out of order: want activate < inactive <= delete and publish < delete")
	}
	return k, nil
}

// notAfter reports whether both times are set and a is not after b: a key
// inactive or deleted as soon as it starts would never be used.
func notAfter(a, b time.Time) bool { return !a.IsZero() && !b.IsZero() && !a.After(b) }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// printDS prints the DS of every published KSK or CSK of the zone, as
// dnssec-dsfromkey -2 does, for the registrar.
func printDS(o *options, args []string, now time.Time, stdout, stderr io.Writer) int {
	const name = "authdns dnssec ds"
	if err := cli.Args(args, 1, 1, "ZONE"); err != nil {
		return cli.Fail(stderr, name, err)
	}
	if _, ok := dns.IsDomainName(args[0]); !ok {
		return cli.Fail(stderr, name, cli.Usagef("zone %q is not a domain name", args[0]))
	}
	zone := dns.CanonicalName(args[0])
	dir, err := keyDir(o, zone)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return cli.ExitError
	}
	all, err := keys.LoadDir(dir)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return cli.ExitError
	}
	z := all[zone]
	if z == nil {
		fmt.Fprintf(stderr, "%s: no keys for %s in %s\n", name, zone, dir)
		return cli.ExitError
	}
	st := z.At(now)
	n := 0
	for _, k := range z.Keys {
		// A revoked key is published under another DNSKEY, so is not found.
		if k.KSK() && k.DNSKEY.Flags&dns.REVOKE == 0 && slices.Contains(st.DNSKEY, k.DNSKEY) {
			ds := k.DS()
			fmt.Fprintf(stdout, "%s IN DS %d %d %d %s\n", ds.Hdr.Name, ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest)
			n++
		}
	}
	if n == 0 {
		fmt.Fprintf(stderr, "%s: %s has no published KSK or CSK in %s\n", name, zone, dir)
		return cli.ExitError
	}
	return cli.ExitOK
}

// keyDir is --dir, or else the key directory --config's dnssec: section
// gives zone (a canonical name), as ctl takes --control or else --config's.
func keyDir(o *options, zone string) (string, error) {
	if o.keyDir != "" {
		return o.keyDir, nil
	}
	cfg, err := authdns.LoadConfig(o.config)
	if err != nil {
		return "", fmt.Errorf("no --dir, and %w", err)
	}
	dir := cfg.DNSSEC.KeyDir(zone)
	if dir == "" {
		return "", fmt.Errorf("no --dir, and %s gives %s no key directory (no dnssec: keys for it, or sign: false)", o.config, zone)
	}
	return dir, nil
}
