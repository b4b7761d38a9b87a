package gdnsddiffe2e

import (
	"strings"
	"testing"
)

// The walker finds names from $INCLUDEs into subdirectories (with an
// @Z origin), $ORIGIN changes, wildcards and delegations.
func TestWalkFixtureZones(t *testing.T) {
	zones, err := walkZones(testdata("gdnsd", "zones"))
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{}
	for _, z := range zones {
		for _, r := range z.records {
			owners[r.owner+" "+r.rtype] = strings.Join(r.rdata, " ")
		}
	}
	for _, want := range []string{
		"example.org. SOA", "example.org. DYNA", "api.svc.example.org. A", "docs.svc.example.org. CNAME",
		"host1002.example.org. TXT", "text-lb.eqiad.example.net. A", "text-lb.esams.example.net. A",
		"*.wiki.example.org. DYNA", "lab.example.org. NS", "cdn.example.org. DYNC", "1.2.0.192.in-addr.arpa. PTR",
		"mail._domainkey.example.org. TXT",
	} {
		if _, ok := owners[want]; !ok {
			t.Errorf("no %s", want)
		}
	}
	if got := owners["docs.svc.example.org. CNAME"]; got != "api.svc.@Z" {
		t.Errorf("docs CNAME rdata %q", got)
	}
	if got := owners["en-codfw.example.org. DYNA"]; got != "geoip!text-addrs/codfw" {
		t.Errorf("en-codfw DYNA rdata %q", got)
	}
	if n := len(zones); n != 4 {
		t.Errorf("%d zones, want 4", n)
	}
}

func TestLogicalLines(t *testing.T) {
	ls := logicalLines("@ IN SOA a. b. (\n 1 ; serial\n 2 3 4 5 )\n  IN TXT \"a ; b\" ; c\n\n$TTL 5\n")
	if len(ls) != 3 {
		t.Fatalf("%d lines: %+v", len(ls), ls)
	}
	if got := strings.Join(ls[0].tokens, " "); got != "@ IN SOA a. b. 1 2 3 4 5" {
		t.Errorf("SOA %q", got)
	}
	if !ls[1].indented || ls[1].tokens[2] != "a ; b" {
		t.Errorf("TXT %+v", ls[1])
	}
}
