package keys

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// LoadDir groups the keys of each zone, in tag order, whatever their file
// names' form; other files are not keys.
func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	var org []*Key
	for range 3 {
		org = append(org, writeKey(t, dir, "example.org", dns.ECDSAP256SHA256, 256))
	}
	old := filepath.Join(dir, strings.Replace(filepath.Base(org[0].File), "org.+", "org+", 1))
	os.Rename(org[0].File+".key", old+".key")
	os.Rename(org[0].File+".private", old+".private")
	net := writeKey(t, dir, "Example.NET", dns.ED25519, 257)
	os.WriteFile(filepath.Join(dir, "README"), []byte("keys\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Kexample.org.+013+00001.state"), []byte("not read\n"), 0o644)
	os.Mkdir(filepath.Join(dir, "Kold"), 0o755)

	all, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all["example.org."] == nil || all["example.net."] == nil {
		t.Fatalf("zones %v", all)
	}
	z := all["example.org."]
	if z.Zone != "example.org." || len(z.Keys) != 3 {
		t.Fatalf("example.org.: %+v", z)
	}
	for i, k := range z.Keys {
		if i > 0 && z.Keys[i-1].Tag() > k.Tag() {
			t.Errorf("keys not in tag order")
		}
	}
	if n := all["example.net."]; len(n.Keys) != 1 || n.Keys[0].DNSKEY.PublicKey != net.DNSKEY.PublicKey {
		t.Errorf("example.net.: %+v", n)
	}
	if empty, err := LoadDir(t.TempDir()); err != nil || len(empty) != 0 {
		t.Errorf("empty directory: %v %v", empty, err)
	}
}

// Every bad file is reported, and none of the good keys are returned; a
// .private alone (a key being written) is not an error.
func TestLoadDirErrors(t *testing.T) {
	dir := t.TempDir()
	writeKey(t, dir, "example.org", dns.ECDSAP256SHA256, 257)
	lone := writeKey(t, dir, "example.org", dns.ECDSAP256SHA256, 256)
	os.Remove(lone.File + ".private")
	orphan := writeKey(t, dir, "example.org", dns.ED25519, 256)
	os.Remove(orphan.File + ".key")
	// What dnssec-revoke leaves without -r: the key revoked, and unrevoked.
	k := writeKey(t, dir, "example.com", dns.ED25519, 257)
	rev := k.withFlags(k.DNSKEY.Flags | dns.REVOKE)
	if _, err := rev.Write(dir); err != nil {
		t.Fatal(err)
	}
	all, err := LoadDir(dir)
	if all != nil || err == nil {
		t.Fatalf("LoadDir: %v, %v", all, err)
	}
	first, second := k.File, rev.File
	if second < first {
		first, second = second, first
	}
	for _, want := range []string{
		lone.File + ".private: missing",
		second + ".key: the same key as " + first + ".key (keep one of them)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("LoadDir: %v\nwant %s", err, want)
		}
	}
	if strings.Contains(err.Error(), filepath.Base(orphan.File)) {
		t.Errorf("a .private alone reported: %v", err)
	}
	if _, err := LoadDir(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("a missing directory: %v", err)
	}
}

// A directory read while keys are written into it reads without error:
// each key is there whole or not at all.
func TestLoadDirWhileWriting(t *testing.T) {
	dir := t.TempDir()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 40 {
			k, err := Generate("example.org", dns.ED25519, 256, t0)
			if err == nil {
				_, err = k.Write(dir)
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for reads := 0; ; reads++ {
		select {
		case <-done:
			all, err := LoadDir(dir)
			if err != nil || len(all["example.org."].Keys) != 40 {
				t.Fatalf("after the writes: %v, %v", all, err)
			}
			return
		default:
		}
		if _, err := LoadDir(dir); err != nil {
			t.Fatalf("read %d, during the writes: %v", reads, err)
		}
	}
}
