package dnssece2e

import (
	"regexp"
	"strings"
	"testing"
)

// signed starts authdns on a zone signed by one CSK made with `authdns
// dnssec keygen`, and an unbound trusting the DS `authdns dnssec ds`
// prints for it.
func signed(t *testing.T) (*setup, *server, *resolver) {
	t.Helper()
	s := newSetup(t, "  dnskey_ttl: 60\n")
	s.keygen()
	srv := s.start()
	return s, srv, startUnbound(t, s.ds()[0], srv.addr)
}

// Every kind of answer validates through a real unbound: AD set, with
// the data or the denial expected.
func TestUnboundValidatesEveryAnswerKind(t *testing.T) {
	_, _, r := signed(t)
	for _, tt := range []struct {
		what, name, qtype string
		want              []string // regexps over dig's output
	}{
		{"static A", "www.example.org", "A", []string{`www\.example\.org\.\s+\d+\s+IN\s+A\s+192\.0\.2\.80`}},
		{"static MX at the apex", "example.org", "MX", []string{`IN\s+MX\s+10 mail\.example\.org\.`}},
		{"CNAME to a static set", "alias.example.org", "A", []string{`IN\s+CNAME\s+www\.example\.org\.`, `IN\s+A\s+192\.0\.2\.80`}},
		{"DYNA", "geo.example.org", "A", []string{`geo\.example\.org\.\s+\d+\s+IN\s+A\s+198\.51\.100\.[12]`}},
		{"DYNC CNAME", "lb.example.org", "A", []string{`lb\.example\.org\.\s+\d+\s+IN\s+CNAME\s+lb[12]\.example\.org\.`, `lb[12]\.example\.org\.\s+\d+\s+IN\s+A\s+192\.0\.2\.[12]`}},
		{"wildcard", "x.wild.example.org", "TXT", []string{`x\.wild\.example\.org\.\s+\d+\s+IN\s+TXT\s+"wildcard answer"`}},
		{"nonexistent name (compact denial)", "nosuch.example.org", "A", []string{`ANSWER: 0`}},
		{"NODATA", "www.example.org", "MX", []string{`ANSWER: 0`}},
		{"wildcard NODATA", "x.wild.example.org", "A", []string{`ANSWER: 0`}},
		{"empty non-terminal", "ent.example.org", "A", []string{`ANSWER: 0`}},
		{"DYNA NODATA", "geo.example.org", "MX", []string{`ANSWER: 0`}},
		{"no DS at an insecure delegation", "sub.example.org", "DS", []string{`ANSWER: 0`}},
		{"DNSKEY", "example.org", "DNSKEY", []string{`IN\s+DNSKEY\s+257 3 13 `}},
	} {
		t.Run(tt.what, func(t *testing.T) {
			got := r.wantSecure(t, tt.name, tt.qtype, "NOERROR")
			for _, w := range tt.want {
				if !regexp.MustCompile(w).MatchString(got.out) {
					t.Errorf("no %s in:\n%s", w, got.out)
				}
			}
		})
	}
}

// A trust anchor that does not match the zone's key makes every answer
// bogus: SERVFAIL, never unvalidated data.
func TestUnboundWrongDSIsServfail(t *testing.T) {
	s := newSetup(t, "")
	s.keygen()
	srv := s.start()
	ds := s.ds()[0]
	// The digest's last hex digit changed: the anchor names another key.
	last := ds[len(ds)-1]
	wrong := ds[:len(ds)-1] + map[bool]string{true: "1", false: "0"}[last == '0']
	r := startUnbound(t, wrong, srv.addr)
	for _, q := range [][2]string{{"www.example.org", "A"}, {"geo.example.org", "A"}, {"nosuch.example.org", "A"}} {
		got := r.query(q[0], q[1])
		if got.status != "SERVFAIL" || got.ad || strings.Contains(got.out, "192.0.2.80") {
			t.Errorf("%s %s with a wrong DS anchor: status %s ad=%v, want SERVFAIL without data:\n%s", q[0], q[1], got.status, got.ad, got.out)
		}
	}
	if !strings.Contains(r.Logs(), "validation failure") {
		t.Errorf("unbound logged no validation failure:\n%s", r.Logs())
	}
	// The same server validates under the right anchor: the failure is
	// the anchor's.
	startUnbound(t, ds, srv.addr).wantSecure(t, "www.example.org", "A", "NOERROR")
}

// dig +dnssec straight at authdns shows the signatures and the compact
// denial proofs; without DO the answers are as unsigned ones.
func TestDigShowsSignaturesAndProofs(t *testing.T) {
	_, srv, _ := signed(t)
	for _, tt := range []struct {
		what string
		args []string
		want []string
		not  []string
	}{
		{"signed A", []string{"+dnssec", "www.example.org", "A"},
			[]string{`status: NOERROR`, `flags: qr aa[ ;]`, `www\.example\.org\.\s+3600\s+IN\s+RRSIG\s+A 13 3 3600 \d{14} \d{14} \d+ example\.org\. `}, nil},
		{"signed DYNA", []string{"+dnssec", "geo.example.org", "A"},
			[]string{`geo\.example\.org\.\s+\d+\s+IN\s+RRSIG\s+A 13 3 `}, nil},
		{"compact denial of a nonexistent name", []string{"+dnssec", "nosuch.example.org", "A"},
			[]string{`status: NOERROR`, `ANSWER: 0`, `example\.org\.\s+\d+\s+IN\s+SOA`, `IN\s+RRSIG\s+SOA `,
				`nosuch\.example\.org\.\s+300\s+IN\s+NSEC\s+\\000\.nosuch\.example\.org\. RRSIG NSEC TYPE128`, `IN\s+RRSIG\s+NSEC `}, nil},
		{"NODATA proof", []string{"+dnssec", "www.example.org", "MX"},
			[]string{`status: NOERROR`, `www\.example\.org\.\s+300\s+IN\s+NSEC\s+\\000\.www\.example\.org\. A AAAA RRSIG NSEC`}, nil},
		{"no DS at the delegation", []string{"+dnssec", "+norec", "www.sub.example.org", "A"},
			[]string{`sub\.example\.org\.\s+\d+\s+IN\s+NS\s+ns1\.sub\.example\.org\.`, `sub\.example\.org\.\s+\d+\s+IN\s+NSEC\s+\S+ NS RRSIG NSEC`}, nil},
		{"DNSKEY signed", []string{"+dnssec", "example.org", "DNSKEY"},
			[]string{`example\.org\.\s+60\s+IN\s+DNSKEY\s+257 3 13 `, `IN\s+RRSIG\s+DNSKEY 13 2 60 `}, nil},
		{"without DO: plain NXDOMAIN", []string{"+nodnssec", "nosuch.example.org", "A"},
			[]string{`status: NXDOMAIN`}, []string{`RRSIG`, `NSEC`}},
		{"without DO: no RRSIG", []string{"+nodnssec", "www.example.org", "A"},
			[]string{`IN\s+A\s+192\.0\.2\.80`}, []string{`RRSIG`}},
	} {
		t.Run(tt.what, func(t *testing.T) {
			out := dig(t, srv.addr, tt.args...)
			for _, w := range tt.want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("dig %s: no %s in:\n%s", strings.Join(tt.args, " "), w, out)
				}
			}
			for _, w := range tt.not {
				if regexp.MustCompile(w).MatchString(out) {
					t.Errorf("dig %s: %s should not be in:\n%s", strings.Join(tt.args, " "), w, out)
				}
			}
		})
	}
}
