package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/dnssec/keys"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// keygen writes a key pair whose base name it prints, with the role,
// algorithm and dates asked; ds prints the DS of the published KSKs only.
func TestDNSSECKeygenAndDS(t *testing.T) {
	dir := t.TempDir()
	gen := func(args ...string) *keys.Key {
		t.Helper()
		code, out, errs := runCmd(append([]string{"dnssec", "keygen", "--dir", dir}, args...)...)
		if code != 0 {
			t.Fatalf("keygen %v: exit %d: %s", args, code, errs)
		}
		base := strings.TrimSpace(out)
		if !strings.HasPrefix(base, "Kexample.org.+0") || strings.Contains(base, "/") {
			t.Fatalf("keygen printed %q", out)
		}
		k, err := keys.ReadKey(filepath.Join(dir, base))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	csk := gen("Example.ORG")
	if csk.DNSKEY.Flags != 257 || csk.DNSKEY.Algorithm != 13 || csk.Timing.Activate.IsZero() {
		t.Errorf("default key: flags %d alg %d timing %+v", csk.DNSKEY.Flags, csk.DNSKEY.Algorithm, csk.Timing)
	}
	zsk := gen("example.org", "--zsk", "--alg", "15", "--publish", "none", "--activate", "20300101", "--inactive", "+10000d", "--delete", "none")
	if zsk.DNSKEY.Flags != 256 || zsk.DNSKEY.Algorithm != 15 || !zsk.Timing.Publish.IsZero() || !zsk.Timing.Delete.IsZero() ||
		!zsk.Timing.Activate.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) || zsk.Timing.Inactive.IsZero() {
		t.Errorf("--zsk --alg 15: flags %d alg %d timing %+v", zsk.DNSKEY.Flags, zsk.DNSKEY.Algorithm, zsk.Timing)
	}
	future := gen("example.org", "--ksk", "--publish", "+1y")

	code, out, errs := runCmd("dnssec", "ds", "example.org.", "--dir", dir)
	want := dsText(csk)
	if code != 0 || out != want {
		t.Errorf("ds: exit %d\n%s%s\nwant\n%s(not the ZSK, not %d published in a year)", code, out, errs, want, future.Tag())
	}
}

func dsText(k *keys.Key) string {
	ds := k.DS()
	return strings.Join(append([]string{ds.Hdr.Name, "IN", "DS"}, strings.Fields(ds.String())[4:]...), " ") + "\n"
}

func TestDNSSECErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Kbad.org.+013+00001.key"), []byte("bad.org. IN DNSKEY 257 3 8 AwEAAQ==\n"), 0o644)
	empty := t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"dnssec"}, 2, "missing command: want keygen or ds"},
		{[]string{"dnssec", "sign"}, 2, `unknown command "sign"`},
		{[]string{"dnssec", "keygen"}, 2, "missing argument: want ZONE"},
		{[]string{"dnssec", "keygen", "a.org", "b.org"}, 2, `unexpected argument "b.org"`},
		{[]string{"dnssec", "keygen", "a..org"}, 2, "not a domain name"},
		{[]string{"dnssec", "keygen", "a.org", "--alg", "8"}, 2, "--alg 8: want 13 (ECDSAP256SHA256) or 15 (ED25519)"},
		{[]string{"dnssec", "keygen", "a.org", "--ksk", "--zsk"}, 2, "exclude each other"},
		{[]string{"dnssec", "keygen", "a.org", "--publish", "tomorrow"}, 2, `--publish: time "tomorrow"`},
		{[]string{"dnssec", "keygen", "a.org", "--activate", "+2d", "--inactive", "+1d"}, 2, "out of order"},
		{[]string{"dnssec", "keygen", "a.org", "--dir", filepath.Join(empty, "nope")}, 1, "no such file or directory"},
		{[]string{"dnssec", "ds", "--dir", empty}, 2, "missing argument: want ZONE"},
		{[]string{"dnssec", "ds", "a.org", "--dir", empty}, 1, "no keys for a.org. in " + empty},
		{[]string{"dnssec", "ds", "a.org", "--dir", dir}, 1, "Kbad.org.+013+00001.key:1: algorithm 8 (RSASHA256) is not supported"},
	} {
		code, out, errs := runCmd(tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.err) || out != "" {
			t.Errorf("%v: exit %d, want %d with %q\nstdout %q\nstderr %s", tt.args, code, tt.code, tt.err, out, errs)
		}
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("a failed command wrote %d files", len(ents))
	}
}

// Without --dir, keygen and ds use the key directory the dnssec: section
// of --config gives the zone, per-zone overrides included.
func TestDNSSECKeyDirFromConfig(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"zones", "keys", "other-keys"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	cfg := filepath.Join(dir, "authdns.yaml")
	os.WriteFile(cfg, []byte("listen: [\"127.0.0.1:0\"]\nzones: zones\ndnssec:\n  keys: keys\n  zones:\n"+
		"    other.org: {keys: other-keys}\n    plain.org: {sign: false}\n"), 0o644)
	for zone, want := range map[string]string{"example.org": "keys", "Other.Org.": "other-keys"} {
		code, out, errs := runCmd("dnssec", "keygen", zone, "--config", cfg)
		if code != 0 {
			t.Fatalf("keygen %s: exit %d: %s", zone, code, errs)
		}
		if _, err := os.Stat(filepath.Join(dir, want, strings.TrimSpace(out)+".private")); err != nil {
			t.Errorf("keygen %s: %v", zone, err)
		}
		if code, out, errs := runCmd("dnssec", "ds", zone, "--config", cfg); code != 0 || !strings.Contains(out, " IN DS ") {
			t.Errorf("ds %s: exit %d\n%s%s", zone, code, out, errs)
		}
	}
	code, _, errs := runCmd("dnssec", "ds", "plain.org", "--config", cfg)
	if code != 1 || !strings.Contains(errs, "no --dir, and "+cfg+" gives plain.org. no key directory") {
		t.Errorf("a zone with sign: false: exit %d: %s", code, errs)
	}
	code, _, errs = runCmd("dnssec", "keygen", "example.org", "--config", filepath.Join(dir, "missing.yaml"))
	if code != 1 || !strings.Contains(errs, "no --dir, and ") || !strings.Contains(errs, "missing.yaml") {
		t.Errorf("no configuration: exit %d: %s", code, errs)
	}
}
