package zones

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// What a lookup tells a signer: the name a denial is for and what exists
// there, and which answers are at a name not their own.
func TestLookupDenial(t *testing.T) {
	set, err := LoadDir("testdata/good", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		qname    string
		qtype    uint16
		owner    string // the denial's; "" none
		node     string // the node's owner; "" nil
		referral bool
		synth    bool // the first answer
	}{
		{"www.example.org.", dns.TypeA, "", "", false, false},
		{"WWW.example.org.", dns.TypeMX, "www.example.org.", "www.example.org.", false, false},
		{"nope.example.org.", dns.TypeA, "nope.example.org.", "", false, false},
		{"ent.example.org.", dns.TypeA, "ent.example.org.", "ent.example.org.", false, false},
		{"foo.wild.example.org.", dns.TypeA, "", "", false, true},
		{"foo.wild.example.org.", dns.TypeAAAA, "foo.wild.example.org.", "*.wild.example.org.", false, false},
		{"*.wild.example.org.", dns.TypeA, "", "", false, false},
		{"dangling.example.org.", dns.TypeA, "nothere.example.org.", "", false, false},
		{"x.y.child.example.org.", dns.TypeA, "child.example.org.", "child.example.org.", true, false},
		{"child.example.org.", dns.TypeDS, "", "", false, false},
		{"www.example.org.", dns.TypeANY, "", "", false, true},
	}
	for _, tt := range tests {
		var res Result
		q, _ := wireName(tt.qname)
		set.Lookup(lowerWire(q), tt.qtype, nil, &res)
		d := res.Denial
		name := func(w []byte) string {
			if w == nil {
				return ""
			}
			return strings.ToLower(presentation(w))
		}
		node := ""
		if d.Node != nil {
			node = name(d.Node.Owner)
		}
		if name(d.Owner) != tt.owner || node != tt.node || d.Referral != tt.referral {
			t.Errorf("%s %s: denial at %q node %q referral %v; want %q %q %v", tt.qname, dns.TypeToString[tt.qtype],
				name(d.Owner), node, d.Referral, tt.owner, tt.node, tt.referral)
		}
		if len(res.Answer) > 0 && res.Answer[0].Synth != tt.synth {
			t.Errorf("%s %s: Synth %v, want %v", tt.qname, dns.TypeToString[tt.qtype], res.Answer[0].Synth, tt.synth)
		}
	}
}
