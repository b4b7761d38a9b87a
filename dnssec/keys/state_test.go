package keys

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var t0 = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

// testKey is a key of example.org. with fixed material (no crypto needed
// to decide the state), told apart by name.
func testKey(t *testing.T, name string, flags uint16, tm Timing) *Key {
	t.Helper()
	k, err := Generate("example.org", dns.ED25519, flags, t0)
	if err != nil {
		t.Fatal(err)
	}
	k.Timing, k.File = tm, name
	return k
}

// describe is a State in one line: "DNSKEY a b; KSK a; ZSK b; CDS a",
// naming keys by File, a revoked one with a trailing "!".
func describe(s State, ks []*Key) string {
	name := func(dk *dns.DNSKEY) string {
		for _, k := range ks {
			if k.DNSKEY.PublicKey == dk.PublicKey {
				if dk.Flags&dns.REVOKE != 0 {
					return k.File + "!"
				}
				return k.File
			}
		}
		return "?"
	}
	var dnskey, ksk, zsk, cds []string
	for _, k := range s.DNSKEY {
		dnskey = append(dnskey, name(k))
	}
	for _, k := range s.KSK {
		ksk = append(ksk, name(k.DNSKEY))
	}
	for _, k := range s.ZSK {
		zsk = append(zsk, name(k.DNSKEY))
	}
	for i, c := range s.CDS {
		cn := s.CDNSKEY[i]
		n := name(&cn.DNSKEY)
		if ds := ks[slices.IndexFunc(ks, func(k *Key) bool { return k.File == n })].DNSKEY.ToDS(dns.SHA256); ds.Digest != c.Digest {
			n += "(bad CDS)"
		}
		cds = append(cds, n)
	}
	slices.Sort(dnskey)
	slices.Sort(ksk)
	slices.Sort(zsk)
	slices.Sort(cds)
	return fmt.Sprintf("DNSKEY %s; KSK %s; ZSK %s; CDS %s", strings.Join(dnskey, " "), strings.Join(ksk, " "),
		strings.Join(zsk, " "), strings.Join(cds, " "))
}

// A ZSK pre-publication rollover (RFC 6781 §4.1.1.1) driven by timing
// alone: the successor is published before it signs, the old ZSK stays
// published after it stops signing, and Next names each step.
func TestZSKRollover(t *testing.T) {
	ksk := testKey(t, "ksk", 257, Timing{Created: day(0), Publish: day(0), Activate: day(0)})
	old := testKey(t, "old", 256, Timing{Created: day(0), Publish: day(0), Activate: day(0), Inactive: day(20), Delete: day(30)})
	succ := testKey(t, "new", 256, Timing{Created: day(10), Publish: day(10), Activate: day(20)})
	z := &ZoneKeys{Zone: "example.org.", Keys: []*Key{succ, old, ksk}}
	for _, tt := range []struct {
		at   time.Time
		want string
		next time.Time
	}{
		{day(0), "DNSKEY ksk old; KSK ksk; ZSK old; CDS ksk", day(10)},
		{day(10).Add(-time.Second), "DNSKEY ksk old; KSK ksk; ZSK old; CDS ksk", day(10)},
		{day(10), "DNSKEY ksk new old; KSK ksk; ZSK old; CDS ksk", day(20)},
		{day(20), "DNSKEY ksk new old; KSK ksk; ZSK new; CDS ksk", day(30)},
		{day(30), "DNSKEY ksk new; KSK ksk; ZSK new; CDS ksk", time.Time{}},
	} {
		s := z.At(tt.at)
		if got := describe(s, z.Keys); got != tt.want || !s.Next.Equal(tt.next) || !s.Signing() {
			t.Errorf("at day %v: %s, next %v\nwant          %s, next %v", tt.at.Sub(t0).Hours()/24, got, s.Next, tt.want, tt.next)
		}
	}
}

func TestAt(t *testing.T) {
	for _, tt := range []struct {
		name string
		keys []*Key
		at   time.Time
		want string
	}{
		{"CSK alone signs everything", []*Key{testKey(t, "csk", 257, Timing{Publish: day(0), Activate: day(0)})}, day(1),
			"DNSKEY csk; KSK csk; ZSK csk; CDS csk"},
		{"ZSK alone signs the DNSKEY set too", []*Key{testKey(t, "zsk", 256, Timing{Activate: day(0)})}, day(1),
			"DNSKEY zsk; KSK zsk; ZSK zsk; CDS "},
		{"no timing: published and active", []*Key{testKey(t, "k", 257, Timing{}), testKey(t, "z", 256, Timing{})}, day(1),
			"DNSKEY k z; KSK k; ZSK z; CDS k"},
		{"Created alone (dnssec-keygen -G): neither", []*Key{testKey(t, "g", 257, Timing{Created: day(0)})}, day(1),
			"DNSKEY ; KSK ; ZSK ; CDS "},
		{"Publish without Activate: published, not signing", []*Key{testKey(t, "p", 257, Timing{Publish: day(0)})}, day(1),
			"DNSKEY p; KSK ; ZSK ; CDS "},
		{"Activate implies published", []*Key{testKey(t, "a", 257, Timing{Publish: day(5), Activate: day(1)})}, day(1),
			"DNSKEY a; KSK a; ZSK a; CDS a"},
		{"before Publish", []*Key{testKey(t, "f", 257, Timing{Publish: day(2), Activate: day(3)})}, day(1),
			"DNSKEY ; KSK ; ZSK ; CDS "},
		{"Inactive: published, not signing", []*Key{testKey(t, "i", 257, Timing{Activate: day(0), Inactive: day(1)})}, day(1),
			"DNSKEY i; KSK ; ZSK ; CDS "},
		{"Delete", []*Key{testKey(t, "d", 257, Timing{Activate: day(0), Delete: day(1)})}, day(1),
			"DNSKEY ; KSK ; ZSK ; CDS "},
		{"SyncPublish..SyncDelete for a published KSK", []*Key{
			testKey(t, "k", 257, Timing{Activate: day(0)}),
			testKey(t, "n", 257, Timing{Publish: day(0), Activate: day(9), SyncPublish: day(1)}),
			testKey(t, "o", 257, Timing{Activate: day(0), SyncDelete: day(1)})}, day(1),
			"DNSKEY k n o; KSK k o; ZSK k o; CDS k n"},
		{"no CDS for a ZSK's SyncPublish", []*Key{testKey(t, "k", 257, Timing{Activate: day(0), SyncPublish: day(5)}),
			testKey(t, "z", 256, Timing{Activate: day(0), SyncPublish: day(0)})}, day(1),
			"DNSKEY k z; KSK k; ZSK z; CDS "},
		{"revoked: REVOKE flag, signs the DNSKEY set only", []*Key{
			testKey(t, "r", 257, Timing{Activate: day(0), Revoke: day(1), SyncPublish: day(0)}),
			testKey(t, "k", 257, Timing{Activate: day(0)})}, day(1),
			"DNSKEY k r!; KSK k r!; ZSK k; CDS k"},
		{"revoked and inactive: published only", []*Key{
			testKey(t, "r", 257, Timing{Activate: day(0), Revoke: day(1), Inactive: day(1)}),
			testKey(t, "k", 257, Timing{Activate: day(0)})}, day(1),
			"DNSKEY k r!; KSK k; ZSK k; CDS k"},
		{"not yet revoked", []*Key{testKey(t, "r", 257, Timing{Activate: day(0), Revoke: day(2)})}, day(1),
			"DNSKEY r; KSK r; ZSK r; CDS r"},
	} {
		z := &ZoneKeys{Zone: "example.org.", Keys: tt.keys}
		s := z.At(tt.at)
		if got := describe(s, tt.keys); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// A revoked key's published DNSKEY carries REVOKE and so another tag; the
// key signs under that tag, and the file's key is unchanged.
func TestRevokedTag(t *testing.T) {
	k := testKey(t, "r", 257, Timing{Activate: day(0), Revoke: day(1)})
	tag := k.Tag()
	s := (&ZoneKeys{Zone: "example.org.", Keys: []*Key{k}}).At(day(1))
	if len(s.KSK) != 1 || len(s.DNSKEY) != 1 || s.KSK[0].DNSKEY != s.DNSKEY[0] {
		t.Fatalf("state %+v", s)
	}
	if got := s.KSK[0].Tag(); got == tag || got != s.DNSKEY[0].KeyTag() || s.DNSKEY[0].Flags != 257|dns.REVOKE {
		t.Errorf("revoked tag %d (file's %d), DNSKEY flags %d", got, tag, s.DNSKEY[0].Flags)
	}
	if k.DNSKEY.Flags != 257 || k.Tag() != tag {
		t.Errorf("the file's key changed: flags %d", k.DNSKEY.Flags)
	}
	signVerify(t, s.KSK[0])
}

// At's order is the keys' (tag, algorithm, key) whatever the order given.
func TestAtOrder(t *testing.T) {
	var ks []*Key
	for i := range 6 {
		ks = append(ks, testKey(t, fmt.Sprint(i), 256, Timing{}))
	}
	a := (&ZoneKeys{Keys: ks}).At(t0)
	slices.Reverse(ks)
	b := (&ZoneKeys{Keys: ks}).At(t0)
	for i := range a.DNSKEY {
		if a.DNSKEY[i] != b.DNSKEY[i] || a.ZSK[i] != b.ZSK[i] {
			t.Fatalf("order depends on the input")
		}
		if i > 0 && a.DNSKEY[i-1].KeyTag() > a.DNSKEY[i].KeyTag() {
			t.Errorf("DNSKEY not in tag order")
		}
	}
}
