package keys

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// fuzzKey is a fixed key pair of example.org. (the .private of a key read
// is checked against its .key, or against this one's when the .key text
// does not parse).
const (
	fuzzPublic = `; This is a key-signing key, keyid 48003, for example.org.
; Created: 20261206212346 (Sun Dec  6 21:23:46 2026)
; Publish: 20261207212346 (Mon Dec  7 21:23:46 2026)
; Activate: 20261208212346 (Tue Dec  8 21:23:46 2026)
; Inactive: 20270105212346 (Tue Jan  5 21:23:46 2027)
; Delete: 20270115212346 (Fri Jan 15 21:23:46 2027)
example.org. IN DNSKEY 257 3 13 N2B6d3rjxLmHksSJFeGv30M/u87ySiibxbzVdXllCmaMmacKN1qEYGoU 6B+FUpv/kNG5VnBu9mYUolOustZMJw==
`
	fuzzPrivate = `Private-key-format: v1.3
Algorithm: 13 (ECDSAP256SHA256)
PrivateKey: /IyEujqJJwfCem4+ZF3PuZqTnM/++JxEqaXWop9t9qs=
Created: 20261206212346
Publish: 20261207212346
Activate: 20261208212346
Inactive: 20270105212346
Delete: 20270115212346
`
	ed25519Public  = "; This is a zone-signing key, keyid 43335, for example.org.\nexample.org. IN DNSKEY 256 3 15 zxSILRsGGL7JdcqOGKFvHwhYwyV6k/2ffXXJFT9ZNNc=\n"
	ed25519Private = "Private-key-format: v1.2\nAlgorithm: 15 (ED25519)\nPrivateKey: itfy+5KNmaJqcPeohPv8NkVADmwmXadb+hrGqYp5m8k=\n"
)

var errLine = regexp.MustCompile(`^K\.(key|private):(\d+): `)

// checkErr fails unless err names the file, and a line of text when it
// names one.
func checkErr(t *testing.T, err error, text string) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "K.key:") && !strings.HasPrefix(msg, "K.private:") {
		t.Fatalf("error without the file: %v", err)
	}
	if m := errLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[2])
		if lines := strings.Count(unixLines([]byte(text)), "\n") + 1; n < 1 || n > lines {
			t.Fatalf("error on line %d of %d: %v", n, lines, err)
		}
	}
}

// FuzzReadKey parses .key and .private texts: an error names the file and
// a line of it; a key that parses is usable (zone key, protocol 3,
// algorithm 13 or 15, a private half that matches) and writes back to
// files that read as the same key.
func FuzzReadKey(f *testing.F) {
	f.Add(fuzzPublic, fuzzPrivate)
	f.Add(ed25519Public, ed25519Private)
	f.Add(strings.ReplaceAll(fuzzPublic, "\n", "\r\n"), strings.ReplaceAll(fuzzPrivate, "\n", "\r\n"))
	f.Add("example.org. 300 IN DNSKEY ( 257 3 13\n N2B6d3rjxLmHksSJFeGv30M/u87ySiibxbzVdXllCmaMmacKN1qEYGoU\n 6B+FUpv/kNG5VnBu9mYUolOustZMJw== )\n", "Private-key-format: v1.3\nAlgorithm: 13\nPrivateKey: /IyEujqJJwfCem4+ZF3PuZqTnM/++JxEqaXWop9t9qs=\nRevoke: 20270101000000\n")
	f.Add("example.org. IN DNSKEY 257 3 8 AwEAAQ==\n", "Private-key-format: v1.3\nAlgorithm: 8 (RSASHA256)\nModulus: AQ==\n")
	f.Add("$TTL 60\nexample.org. IN DNSKEY 257 3 13 AAAA\nexample.org. IN A 192.0.2.1\n", "PrivateKey: x\nPublish: 2026\n")
	f.Add("; Publish: 20261207212346\n; SyncPublish: x\n", ";\n\nAlgorithm: 13 (\nPrivate-key-format: v1.3\n")
	f.Fuzz(func(t *testing.T, public, private string) {
		pub, ptm, err := parsePublic("K.key", []byte(public), "example.org.")
		if err != nil {
			checkErr(t, err, public)
			pub, _, _ = parsePublic("K.key", []byte(fuzzPublic), "example.org.")
		} else if err := checkDNSKEY(pub, "example.org."); err != nil || pub.Hdr.Name != "example.org." {
			t.Fatalf("accepted %v: %v", pub, err)
		}
		signer, stm, err := parsePrivate("K.private", []byte(private), pub)
		if err != nil {
			checkErr(t, err, private)
			return
		}
		tm := ptm
		if !stm.Zero() {
			tm = stm
		}
		k := &Key{Zone: "example.org.", DNSKEY: pub, Signer: signer, Timing: tm}
		signVerify(t, k)
		roundTrip(t, k)
	})
}

// roundTrip checks that k's files read back as k.
func roundTrip(t *testing.T, k *Key) {
	t.Helper()
	priv, err := k.privateText()
	if err != nil {
		t.Fatal(err)
	}
	pub, ptm, err := parsePublic("K.key", []byte(k.publicText()), k.Zone)
	if err != nil {
		t.Fatalf("our .key does not read: %v\n%s", err, k.publicText())
	}
	signer, stm, err := parsePrivate("K.private", []byte(priv), pub)
	if err != nil {
		t.Fatalf("our .private does not read: %v\n%s", err, priv)
	}
	if pub.Flags != k.DNSKEY.Flags || pub.Algorithm != k.DNSKEY.Algorithm || pub.PublicKey != k.DNSKEY.PublicKey ||
		pub.Hdr.Ttl != k.DNSKEY.Hdr.Ttl || !sameTiming(ptm, k.Timing) || !sameTiming(stm, k.Timing) {
		t.Fatalf("read back %v %+v %+v\nwant %v %+v", pub, ptm, stm, k.DNSKEY, k.Timing)
	}
	if back := (&Key{Zone: k.Zone, DNSKEY: pub, Signer: signer}); back.Tag() != k.Tag() {
		t.Fatalf("tag %d, want %d", back.Tag(), k.Tag())
	}
}

func sameTiming(a, b Timing) bool {
	for _, f := range timingFields {
		if !f.field(&a).Equal(*f.field(&b)) {
			return false
		}
	}
	return true
}

// The fuzzer's fixed keys are BIND's (dnssec-keygen 9.18).
func TestFuzzSeedsRead(t *testing.T) {
	for _, kp := range [][2]string{{fuzzPublic, fuzzPrivate}, {ed25519Public, ed25519Private}} {
		pub, _, err := parsePublic("K.key", []byte(kp[0]), "example.org.")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := parsePrivate("K.private", []byte(kp[1]), pub); err != nil {
			t.Fatal(err)
		}
	}
	pub, _, _ := parsePublic("K.key", []byte(fuzzPublic), "example.org.")
	if pub.KeyTag() != 48003 || pub.Flags != 257 || pub.Algorithm != dns.ECDSAP256SHA256 {
		t.Errorf("%v", pub)
	}
}
