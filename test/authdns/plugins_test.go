package authdnse2e

import (
	"regexp"
	"strings"
	"testing"
)

// gdnsd's other resolver plugins and %plugin!res references, as dig sees
// them.
func TestDigPlugins(t *testing.T) {
	zone := `$TTL 300
@ IN SOA ns1.example.org. hostmaster.example.org. 1 7200 1800 1209600 300
@ IN NS ns1.example.org.
mf 300/60 IN DYNA metafo!mf
rf IN DYNA reflect!best
cn IN DYNC metafo!cn
st IN DYNA static!st
`
	plugins := `
metafo:
  resources:
    mf: {datacenters: [p, q], dcmap: {p: 192.0.2.11, q: "%multifo!web"}}
    cn: {datacenters: [p], dcmap: {p: "%static!stc"}}
multifo:
  web: [192.0.2.21, 192.0.2.22]
static:
  st: 192.0.2.31
  stc: www.example.net.
`
	s := startServerFiles(t, map[string]string{"zones/plugins.test": zone, "plugins.yaml": plugins},
		"plugins: plugins.yaml\n", "metafo/mf/p => DOWN/45\n")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		// p is forced DOWN/45: q answers, TTL 45 clamped to MIN 60.
		{[]string{"mf.plugins.test", "A"}, []string{`mf\.plugins\.test\.\s+60\s+IN\s+A\s+192\.0\.2\.2[12]`, `ANSWER: 2`}},
		{[]string{"+subnet=203.0.113.0/24", "rf.plugins.test", "A"}, []string{`rf\.plugins\.test\.\s+\d+\s+IN\s+A\s+203\.0\.113\.0`, `CLIENT-SUBNET: 203\.0\.113\.0/24/24`}},
		{[]string{"rf.plugins.test", "A"}, []string{`rf\.plugins\.test\.\s+\d+\s+IN\s+A\s+127\.0\.0\.1`}},
		{[]string{"cn.plugins.test", "A"}, []string{`cn\.plugins\.test\.\s+\d+\s+IN\s+CNAME\s+www\.example\.net\.`}},
		{[]string{"st.plugins.test", "A"}, []string{`st\.plugins\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.31`}},
	} {
		out := s.dig(tc.args...)
		for _, w := range tc.want {
			if !regexp.MustCompile(w).MatchString(out) {
				t.Errorf("dig %s: no match for %s in\n%s", strings.Join(tc.args, " "), w, out)
			}
		}
	}
}
