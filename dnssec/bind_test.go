package dnssec

import (
	"os/exec"
	"testing"

	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/miekg/dns"
)

// Keys made by BIND's dnssec-keygen, read from their directory, sign a
// zone whose signatures verify: a KSK signs the DNSKEY set, a ZSK of
// another algorithm the rest.
func TestSignWithBINDKeys(t *testing.T) {
	tool, err := exec.LookPath("dnssec-keygen")
	if err != nil {
		t.Fatal("dnssec-keygen is not installed: run `make deps-bind9-utils`")
	}
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-q", "-C", "-a", "ECDSAP256SHA256", "-f", "KSK", "example.org"},
		{"-q", "-C", "-a", "ED25519", "example.org"},
	} {
		cmd := exec.Command(tool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dnssec-keygen %v: %v\n%s", args, err, out)
		}
	}
	zk, err := keys.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ksk, zsk *keys.Key
	for _, k := range zk["example.org."].Keys {
		if k.KSK() {
			ksk = k
		} else {
			zsk = k
		}
	}
	set := loadZone(t, "example.org", testZone)
	s, err := New(set, zk, Options{}, testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	z := set.Zone("example.org.")
	zs := s.Zone(z)
	dnskey, _, _ := zs.Apex()
	verify(t, zs.StaticSigs(dnskey, testNow), "example.org.", dns.TypeDNSKEY, dnskey.TTL, dnskey.RData, ksk)
	mx := z.Node(z.Apex).Find(dns.TypeMX)
	verify(t, zs.StaticSigs(mx, testNow), "example.org.", dns.TypeMX, mx.TTL, mx.RData, zsk)
}
