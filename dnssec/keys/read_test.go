package keys

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// writeKey writes a new key of zone into dir and returns it.
func writeKey(t *testing.T, dir, zone string, alg uint8, flags uint16) *Key {
	t.Helper()
	k, err := Generate(zone, alg, flags, time.Date(2026, 12, 6, 12, 31, 45, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Write(dir); err != nil {
		t.Fatal(err)
	}
	return k
}

func readText(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Each broken key pair is refused with the file, the line when there is
// one, and the reason.
func TestReadKeyErrors(t *testing.T) {
	other := writeKey(t, t.TempDir(), "example.org", dns.ED25519, 257)
	for _, tt := range []struct {
		name string
		edit func(t *testing.T, k *Key) string // breaks k's files; returns the base to read
		err  string                            // %s: the base path
	}{
		{"file name", func(t *testing.T, k *Key) string {
			os.Rename(k.File+".key", filepath.Join(filepath.Dir(k.File), "Kexample.org.key"))
			return filepath.Join(filepath.Dir(k.File), "Kexample.org")
		}, `Kexample.org.key: file name "Kexample.org": want K<zone>+<algorithm>+<tag>`},
		{"algorithm", func(t *testing.T, k *Key) string {
			b := filepath.Join(filepath.Dir(k.File), "Kexample.org.+008+00001")
			os.WriteFile(b+".key", []byte("; a comment\nexample.org. IN DNSKEY 257 3 8 AwEAAQ==\n"), 0o644)
			return b
		}, "%s.key:2: algorithm 8 (RSASHA256) is not supported: use 13 (ECDSAP256SHA256) or 15 (ED25519)"},
		{"owner", func(t *testing.T, k *Key) string {
			replace(t, k.File+".key", "\nexample.org. IN", "\nother.org. IN")
			return k.File
		}, "%s.key:5: owner other.org. is not the zone of the file name, example.org."},
		{"protocol", func(t *testing.T, k *Key) string {
			replace(t, k.File+".key", "DNSKEY 257 3 13", "DNSKEY 257 4 13")
			return k.File
		}, "%s.key:5: protocol 4: a DNSKEY's protocol is 3"},
		{"not a zone key", func(t *testing.T, k *Key) string {
			replace(t, k.File+".key", "DNSKEY 257", "DNSKEY 1")
			return k.File
		}, "%s.key:5: flags 1: not a zone key"},
		{"tag of the file name", func(t *testing.T, k *Key) string {
			replace(t, k.File+".key", "DNSKEY 257", "DNSKEY 256")
			return k.File
		}, "%s.key: the file name says algorithm 13, tag"},
		{"not a DNSKEY", func(t *testing.T, k *Key) string {
			replace(t, k.File+".key", "IN DNSKEY 257 3 13", "IN DS 1 13 2 AB ;")
			return k.File
		}, "%s.key:5: want an IN DNSKEY record, not IN DS"},
		{"two records", func(t *testing.T, k *Key) string {
			b := readText(t, k.File+".key")
			os.WriteFile(k.File+".key", []byte(b+b[strings.LastIndex(b, ";"):]), 0o644)
			return k.File
		}, "%s.key:5: more than one record"},
		{"no record", func(t *testing.T, k *Key) string {
			os.WriteFile(k.File+".key", []byte("; nothing\n\n"), 0o644)
			return k.File
		}, "%s.key: no DNSKEY record"},
		{"bad base64", func(t *testing.T, k *Key) string {
			replace(t, k.File+".key", "DNSKEY 257 3 13 ", "DNSKEY 257 3 13 !")
			return k.File
		}, "%s.key:5: public key: not base64"},
		{"short key", func(t *testing.T, k *Key) string {
			replace(t, k.File+".key", "DNSKEY 257 3 13 ", "DNSKEY 257 3 13 AAAA ")
			return k.File
		}, "%s.key:5: public key: 67 bytes: algorithm 13's are 64"},
		{"syntax", func(t *testing.T, k *Key) string {
			replace(t, k.File+".key", "IN DNSKEY 257 3 13", "IN DNSKEY 257 3 x13")
			return k.File
		}, `%s.key:5: bad DNSKEY Algorithm: "x13"`},
		{"bad timing comment", func(t *testing.T, k *Key) string {
			replace(t, k.File+".key", "; Publish: 2026", "; Publish: 1026x")
			return k.File
		}, `%s.key:3: Publish: time "1026x1206123145": want YYYYMMDDHHMMSS`},
		{"private missing", func(t *testing.T, k *Key) string {
			os.Remove(k.File + ".private")
			return k.File
		}, "%s.private: missing: the private key is needed to sign online"},
		{"private readable by others", func(t *testing.T, k *Key) string {
			os.Chmod(k.File+".private", 0o644)
			return k.File
		}, "%s.private: mode 0644: others may read or the group write the private key; chmod 0600 (or 0640)"},
		{"private writable by the group", func(t *testing.T, k *Key) string {
			os.Chmod(k.File+".private", 0o660)
			return k.File
		}, "%s.private: mode 0660"},
		{"another key's private half", func(t *testing.T, k *Key) string {
			priv := readText(t, other.File+".private")
			os.WriteFile(k.File+".private", []byte(strings.Replace(priv, "15 (ED25519)", "13 (ECDSAP256SHA256)", 1)), 0o600)
			return k.File
		}, "%s.private:3: PrivateKey does not match the public key"},
		{"another P-256 key", func(t *testing.T, k *Key) string {
			o := writeKey(t, t.TempDir(), "example.org", dns.ECDSAP256SHA256, 257)
			os.WriteFile(k.File+".private", []byte(readText(t, o.File+".private")), 0o600)
			return k.File
		}, "%s.private:3: PrivateKey does not match the public key in the .key file"},
		{"private algorithm", func(t *testing.T, k *Key) string {
			replace(t, k.File+".private", "Algorithm: 13", "Algorithm: 15")
			return k.File
		}, `%s.private:2: algorithm "15 (ECDSAP256SHA256)": the public key's is 13`},
		{"private format", func(t *testing.T, k *Key) string {
			replace(t, k.File+".private", "Private-key-format: v1.3\n", "")
			return k.File
		}, "%s.private: no Private-key-format line: not a BIND private key file"},
		{"private format version", func(t *testing.T, k *Key) string {
			replace(t, k.File+".private", "v1.3", "v2.0")
			return k.File
		}, `%s.private:1: private key format "v2.0": want v1.2 or v1.3`},
		{"HSM key", func(t *testing.T, k *Key) string {
			replace(t, k.File+".private", "PrivateKey:", "Label:")
			return k.File
		}, "%s.private: no PrivateKey line (keys held in an HSM are not supported)"},
		{"private not base64", func(t *testing.T, k *Key) string {
			replace(t, k.File+".private", "PrivateKey: ", "PrivateKey: *")
			return k.File
		}, "%s.private:3: PrivateKey: not base64"},
		{"private timing", func(t *testing.T, k *Key) string {
			replace(t, k.File+".private", "Activate: 20261206123145", "Activate: 2026")
			return k.File
		}, `%s.private:6: Activate: time "2026": want YYYYMMDDHHMMSS`},
		{"not Name: value", func(t *testing.T, k *Key) string {
			replace(t, k.File+".private", "Created: ", "Created ")
			return k.File
		}, "%s.private:4: want Name: value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := writeKey(t, t.TempDir(), "example.org", dns.ECDSAP256SHA256, 257)
			base := tt.edit(t, k)
			_, err := ReadKey(base)
			want := strings.ReplaceAll(tt.err, "%s", base)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("ReadKey: %v\nwant %s", err, want)
			}
		})
	}
}

func replace(t *testing.T, name, old, new string) {
	t.Helper()
	b := readText(t, name)
	if !strings.Contains(b, old) {
		t.Fatalf("%s has no %q:\n%s", name, old, b)
	}
	fi, _ := os.Stat(name)
	if err := os.WriteFile(name, []byte(strings.Replace(b, old, new, 1)), fi.Mode()); err != nil {
		t.Fatal(err)
	}
}

// What ReadKey accepts beyond its own files: the .key or .private name,
// a 0640 private file, CRLF line ends, a TTL, the old dot-less name, and
// timing from the .private over the .key's comments.
func TestReadKeyAccepts(t *testing.T) {
	dir := t.TempDir()
	k := writeKey(t, dir, "example.org", dns.ED25519, 256)
	os.Chmod(k.File+".private", 0o640)
	for _, name := range []string{k.File, k.File + ".key", k.File + ".private"} {
		if got, err := ReadKey(name); err != nil || got.File != k.File || got.Timing != k.Timing {
			t.Errorf("ReadKey(%s): %v %+v", name, err, got)
		}
	}
	replace(t, k.File+".private", "Publish: 20261206123145", "Publish: 20270101000000")
	replace(t, k.File+".key", "IN DNSKEY", "300 IN DNSKEY")
	for _, f := range []string{k.File + ".key", k.File + ".private"} {
		os.WriteFile(f, []byte(strings.ReplaceAll(readText(t, f), "\n", "\r\n")), 0o600)
	}
	old := filepath.Join(dir, strings.Replace(filepath.Base(k.File), "org.+", "org+", 1))
	os.Rename(k.File+".key", old+".key")
	os.Rename(k.File+".private", old+".private")
	got, err := ReadKey(old)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); !got.Timing.Publish.Equal(want) || got.Zone != "example.org." {
		t.Errorf("Publish %v (want the .private's %v), zone %s", got.Timing.Publish, want, got.Zone)
	}
	if got.DNSKEY.Hdr.Ttl != 300 {
		t.Errorf("TTL %d, want the file's 300", got.DNSKEY.Hdr.Ttl)
	}
	signVerify(t, got)
}

// A .key file as dnssec-keygen writes it, byte for byte but for the key.
func TestPublicText(t *testing.T) {
	k := writeKey(t, t.TempDir(), "example.org", dns.ECDSAP256SHA256, 257)
	k.Timing.Revoke = time.Date(2027, 3, 4, 5, 6, 7, 0, time.UTC)
	k.DNSKEY.Flags |= dns.REVOKE
	b64 := k.DNSKEY.PublicKey
	want := "; This is a revoked key-signing key, keyid " + strconv.Itoa(int(k.Tag())) + ", for example.org.\n" +
		"; Created: 20261206123145 (Sun Dec  6 12:31:45 2026)\n" +
		"; Publish: 20261206123145 (Sun Dec  6 12:31:45 2026)\n" +
		"; Activate: 20261206123145 (Sun Dec  6 12:31:45 2026)\n" +
		"; Revoke: 20270304050607 (Thu Mar  4 05:06:07 2027)\n" +
		"example.org. IN DNSKEY 385 3 13 " + b64[:56] + " " + b64[56:] + "\n"
	if got := k.publicText(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Write never replaces a key pair: neither file changes.
func TestWriteNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	k := writeKey(t, dir, "example.org", dns.ED25519, 257)
	key, priv := readText(t, k.File+".key"), readText(t, k.File+".private")
	again := *k
	again.Timing.Publish = time.Time{}
	if _, err := again.Write(dir); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second Write: %v", err)
	}
	if readText(t, k.File+".key") != key || readText(t, k.File+".private") != priv {
		t.Errorf("the files changed")
	}
	os.Remove(k.File + ".private")
	if _, err := again.Write(dir); err == nil {
		t.Errorf("Write over a .key alone succeeded")
	}
	if _, err := os.Stat(k.File + ".private"); err == nil {
		t.Errorf("the failed Write left a .private")
	}
	if readText(t, k.File+".key") != key {
		t.Errorf(".key changed")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != filepath.Base(k.File)+".key" {
		t.Errorf("left behind: %v", ents)
	}
}
