package dnssec

import (
	"crypto"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/dnssec/keys"
	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// testNow is a fixed instant: signatures are checked against it.
var testNow = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// newKey generates a key of zone with the given algorithm and flags.
func newKey(t testing.TB, zone string, alg uint8, flags uint16) *keys.Key {
	t.Helper()
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
	}
	bits := 256
	if alg == dns.RSASHA256 {
		bits = 1024
	}
	priv, err := k.Generate(bits)
	if err != nil {
		t.Fatal(err)
	}
	return &keys.Key{Zone: zone, DNSKEY: k, Signer: priv.(crypto.Signer), File: "K" + zone + "test"}
}

// cskState is the state of one CSK.
func cskState(k *keys.Key) keys.State {
	return keys.State{DNSKEY: []*dns.DNSKEY{k.DNSKEY}, KSK: []*keys.Key{k}, ZSK: []*keys.Key{k}}
}

// loadZone loads one zone file (text) of zone name.
func loadZone(t testing.TB, name, text string) *zones.Set {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := zones.Load(dir, nil, zones.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// unpackSig turns a packed RRSIG RDATA into the record at owner with ttl.
func unpackSig(t testing.TB, owner string, ttl uint32, rdata []byte) *dns.RRSIG {
	t.Helper()
	buf := make([]byte, 512)
	n, err := dns.PackDomainName(owner, buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	buf = buf[:n]
	buf = binary.BigEndian.AppendUint16(buf, dns.TypeRRSIG)
	buf = binary.BigEndian.AppendUint16(buf, dns.ClassINET)
	buf = binary.BigEndian.AppendUint32(buf, ttl)
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(rdata)))
	rr, _, err := dns.UnpackRR(append(buf, rdata...), 0)
	if err != nil {
		t.Fatalf("RRSIG RDATA does not unpack: %v", err)
	}
	return rr.(*dns.RRSIG)
}

// records builds the RRs owner/typ/ttl of the packed rdata.
func records(t testing.TB, owner string, typ uint16, ttl uint32, rdata [][]byte) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, rd := range rdata {
		buf := make([]byte, 512)
		n, _ := dns.PackDomainName(owner, buf, 0, nil, false)
		buf = buf[:n]
		buf = binary.BigEndian.AppendUint16(buf, typ)
		buf = binary.BigEndian.AppendUint16(buf, dns.ClassINET)
		buf = binary.BigEndian.AppendUint32(buf, ttl)
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(rd)))
		rr, _, err := dns.UnpackRR(append(buf, rd...), 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rr)
	}
	return out
}

// verify checks that sigs are one valid signature per key in signers
// over the set, valid at testNow, and returns the RRSIGs.
func verify(t testing.TB, sigs [][]byte, owner string, typ uint16, ttl uint32, rdata [][]byte, signers ...*keys.Key) []*dns.RRSIG {
	t.Helper()
	return verifyAt(t, testNow, sigs, owner, typ, ttl, rdata, signers...)
}

// verifyAt is verify with signatures valid at now.
func verifyAt(t testing.TB, now time.Time, sigs [][]byte, owner string, typ uint16, ttl uint32, rdata [][]byte, signers ...*keys.Key) []*dns.RRSIG {
	t.Helper()
	if len(sigs) != len(signers) {
		t.Fatalf("%s %s: %d signatures, want %d", owner, dns.TypeToString[typ], len(sigs), len(signers))
	}
	rrs := records(t, owner, typ, ttl, rdata)
	var out []*dns.RRSIG
	for i, rd := range sigs {
		sig := unpackSig(t, owner, ttl, rd)
		k := signers[i]
		if err := sig.Verify(k.DNSKEY, rrs); err != nil {
			t.Fatalf("%s %s: signature %d (tag %d) does not verify with key %d: %v\n%s",
				owner, dns.TypeToString[typ], i, sig.KeyTag, k.Tag(), err, sig)
		}
		if !sig.ValidityPeriod(now) {
			t.Fatalf("%s %s: %s is not valid at %v", owner, dns.TypeToString[typ], sig, now)
		}
		out = append(out, sig)
	}
	return out
}

// wire packs a presentation name.
func wire(t testing.TB, name string) []byte {
	t.Helper()
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// rdataOf packs the RDATA of presentation records.
func rdataOf(t testing.TB, rrs ...string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1024)
		off, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		// PackRR sets Rdlength: the RDATA is the last Rdlength bytes.
		out = append(out, append([]byte(nil), buf[off-int(rr.Header().Rdlength):off]...))
	}
	return out
}
