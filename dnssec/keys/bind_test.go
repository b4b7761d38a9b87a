package keys

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// bindTool finds a BIND tool; a missing one fails the test (make test
// installs bind9-utils).
func bindTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run `make deps-bind9-utils` (scripts/apt-install dnssec-keygen bind9-utils)", name)
	}
	return path
}

func runTool(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bindTool(t, name), args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// signVerify signs an RRset with k and checks the signature with miekg/dns
// against the key's DNSKEY, as a validator would.
func signVerify(t *testing.T, k *Key) {
	t.Helper()
	a, err := dns.NewRR("www." + k.Zone + " 300 IN A 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Ttl: 300}, Algorithm: k.DNSKEY.Algorithm, KeyTag: k.Tag(),
		SignerName: k.Zone, Inception: uint32(now.Add(-time.Hour).Unix()), Expiration: uint32(now.Add(time.Hour).Unix())}
	if err := sig.Sign(k.Signer, []dns.RR{a}); err != nil {
		t.Fatalf("%s: sign: %v", k.File, err)
	}
	if err := sig.Verify(k.DNSKEY, []dns.RR{a}); err != nil {
		t.Fatalf("%s: verify: %v", k.File, err)
	}
}

func stamp(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := parseStamp(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Keys made by dnssec-keygen, with their dates, read as BIND reads them
// and sign what their DNSKEY verifies; our DS is dnssec-dsfromkey's.
func TestReadBINDKeys(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args  []string
		flags uint16
		want  Timing
	}{
		{[]string{"-a", "ECDSAP256SHA256", "-f", "KSK", "-P", "20270101000000", "-A", "20270102000000",
			"-I", "20270201000000", "-D", "20270301000000", "Example.ORG"}, 257,
			Timing{Publish: stamp(t, "20270101000000"), Activate: stamp(t, "20270102000000"),
				Inactive: stamp(t, "20270201000000"), Delete: stamp(t, "20270301000000")}},
		{[]string{"-a", "ED25519", "-P", "20270103000000", "-A", "20270104000000", "-P", "sync", "20270105000000", "-D", "sync", "20270106000000",
			"-R", "20270107000000", "example.org"}, 256,
			Timing{Publish: stamp(t, "20270103000000"), Activate: stamp(t, "20270104000000"), SyncPublish: stamp(t, "20270105000000"), SyncDelete: stamp(t, "20270106000000"),
				Revoke: stamp(t, "20270107000000")}},
		{[]string{"-C", "-a", "ED25519", "-f", "KSK", "sub.example.org"}, 257, Timing{}},
	} {
		base := runTool(t, dir, "dnssec-keygen", append([]string{"-q"}, tt.args...)...)
		k, err := ReadKey(filepath.Join(dir, base))
		if err != nil {
			t.Fatal(err)
		}
		zone := dns.CanonicalName(tt.args[len(tt.args)-1])
		if k.Zone != zone || k.DNSKEY.Hdr.Name != zone || k.DNSKEY.Flags != tt.flags {
			t.Errorf("%s: zone %s owner %s flags %d, want %s and %d", base, k.Zone, k.DNSKEY.Hdr.Name, k.DNSKEY.Flags, zone, tt.flags)
		}
		if got := k.BaseName(); !strings.EqualFold(got, base) {
			t.Errorf("BaseName %s, want %s", got, base)
		}
		// Created is now: check the others exactly.
		got := k.Timing
		if !tt.want.Zero() && got.Created.IsZero() {
			t.Errorf("%s: no Created", base)
		}
		got.Created = time.Time{}
		if got != tt.want {
			t.Errorf("%s: timing %+v, want %+v", base, got, tt.want)
		}
		signVerify(t, k)
		ds := runTool(t, dir, "dnssec-dsfromkey", "-2", base+".key")
		if want := dsLine(k); !strings.EqualFold(ds, want) || ds != strings.Replace(want, zone, strings.Fields(ds)[0], 1) {
			t.Errorf("dnssec-dsfromkey: %s\nours:            %s", ds, want)
		}
	}
}

// dsLine prints DS as dnssec-dsfromkey does.
func dsLine(k *Key) string {
	ds := k.DS()
	return ds.Hdr.Name + " IN DS " + strings.Join(strings.Fields(ds.String())[4:], " ")
}

// Keys we write are BIND's files: dnssec-dsfromkey reads them and prints
// our DS, and the .key and .private have the modes and lines dnssec-keygen
// gives them.
func TestWriteForBIND(t *testing.T) {
	dir := t.TempDir()
	now := stamp(t, "20261206123145")
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		for _, flags := range []uint16{256, 257} {
			k, err := Generate("Example.org", alg, flags, now)
			if err != nil {
				t.Fatal(err)
			}
			k.Timing.Inactive = now.Add(30 * 24 * time.Hour)
			base, err := k.Write(dir)
			if err != nil {
				t.Fatal(err)
			}
			if base != filepath.Join(dir, k.BaseName()) || k.File != base {
				t.Errorf("Write returned %s, File %s", base, k.File)
			}
			ds := runTool(t, dir, "dnssec-dsfromkey", "-2", filepath.Base(base)+".key")
			if want := dsLine(k); ds != want {
				t.Errorf("dnssec-dsfromkey: %s\nours:            %s", ds, want)
			}
			for _, f := range []struct {
				suffix string
				mode   os.FileMode
			}{{".key", 0o644}, {".private", 0o600}} {
				fi, err := os.Stat(base + f.suffix)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm()&^f.mode != 0 || fi.Mode().Perm()&0o600 != 0o600 {
					t.Errorf("%s: mode %v, want at most %v", base+f.suffix, fi.Mode().Perm(), f.mode)
				}
			}
			back, err := ReadKey(base)
			if err != nil {
				t.Fatal(err)
			}
			if back.DNSKEY.String() != k.DNSKEY.String() || back.Timing != k.Timing {
				t.Errorf("read back %v %+v\nwant       %v %+v", back.DNSKEY, back.Timing, k.DNSKEY, k.Timing)
			}
			signVerify(t, back)
		}
	}
}

// BIND's tools edit and succeed our keys: dnssec-settime retires a ZSK we
// wrote and dnssec-keygen -S makes its successor; LoadDir then reads a
// rollover that At follows.
func TestBINDToolsOnOurKeys(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC().Truncate(time.Second)
	csk := writeKey(t, dir, "example.org", dns.ECDSAP256SHA256, 257)
	zsk := writeKey(t, dir, "example.org", dns.ECDSAP256SHA256, 256)
	base := filepath.Base(zsk.File)
	runTool(t, dir, "dnssec-settime", "-I", FormatStamp(now.Add(48*time.Hour)), "-D", FormatStamp(now.Add(96*time.Hour)), base)
	succ := runTool(t, dir, "dnssec-keygen", "-q", "-S", base, "-i", "24h")
	all, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	z := all["example.org."]
	if z == nil || len(z.Keys) != 3 {
		t.Fatalf("keys %+v", all)
	}
	tag := func(ks []*Key) (tags []uint16) {
		for _, k := range ks {
			tags = append(tags, k.Tag())
		}
		return tags
	}
	var next *Key
	for _, k := range z.Keys {
		if filepath.Base(k.File) == succ {
			next = k
		}
	}
	if next == nil || !next.Timing.Activate.Equal(now.Add(48*time.Hour)) || !next.Timing.Publish.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("successor %s: %+v", succ, next)
	}
	for _, tt := range []struct {
		at        time.Time
		published int
		zsk       uint16
	}{
		{now.Add(time.Hour), 2, zsk.Tag()},
		{now.Add(24 * time.Hour), 3, zsk.Tag()},
		{now.Add(48 * time.Hour), 3, next.Tag()},
		{now.Add(96 * time.Hour), 2, next.Tag()},
	} {
		s := z.At(tt.at)
		if len(s.DNSKEY) != tt.published || len(s.ZSK) != 1 || s.ZSK[0].Tag() != tt.zsk || len(s.KSK) != 1 || s.KSK[0].Tag() != csk.Tag() {
			t.Errorf("at now+%v: %d published, ZSK %v, KSK %v; want %d, ZSK %d, KSK %d", tt.at.Sub(now),
				len(s.DNSKEY), tag(s.ZSK), tag(s.KSK), tt.published, tt.zsk, csk.Tag())
		}
	}
}
