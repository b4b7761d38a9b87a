package dnssec

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

// FuzzCanonicalRData feeds arbitrary RDATA of the types with names: it
// never panics, keeps the length, is idempotent, and changes nothing but
// the case of ASCII letters.
func FuzzCanonicalRData(f *testing.F) {
	for _, s := range []string{
		"x. MX 10 MAIL.Example.ORG.", "x. SOA NS.A. Host.A. 1 2 3 4 5",
		`x. NAPTR 100 10 "S" "SIP+D2U" "" _Sip._UDP.Example.`, "x. SRV 1 2 3 T.",
		"x. RRSIG A 13 2 300 20261220000000 20261206000000 1234 Example.ORG. AAAA",
	} {
		rr, _ := dns.NewRR(s)
		buf := make([]byte, 512)
		off, _ := dns.PackRR(rr, buf, 0, nil, false)
		f.Add(rr.Header().Rrtype, buf[off-int(rr.Header().Rdlength):off])
	}
	f.Add(dns.TypeCNAME, []byte{0xc0, 12})
	f.Add(dns.TypeNAPTR, []byte{0, 1, 0, 2, 200})
	f.Fuzz(func(t *testing.T, typ uint16, rd []byte) {
		in := bytes.Clone(rd)
		out, err := canonicalRData(typ, rd)
		if !bytes.Equal(rd, in) {
			t.Fatalf("input modified")
		}
		if err != nil {
			return
		}
		if len(out) != len(rd) || !bytes.EqualFold(out, rd) {
			t.Fatalf("%x -> %x", rd, out)
		}
		if again, err := canonicalRData(typ, out); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %x -> %x (%v)", out, again, err)
		}
	})
}
