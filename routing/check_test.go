package routing

import (
	"strings"
	"testing"
)

// fakeDNS is a DNSView for unit tests; the real one reads the authdns
// configuration.
type fakeDNS struct {
	sites []string
	down  map[string]bool
}

func (f fakeDNS) Sites() []string          { return f.sites }
func (f fakeDNS) DNSDown(site string) bool { return f.down[site] }

func TestCheck(t *testing.T) {
	shut := strings.Replace(seeds, "    apps:", "    traffic_shutdown: [ulsfo]\n    apps:", 1)
	tests := []struct {
		name   string
		config string
		state  string
		dns    fakeDNS
		want   []string // "code cluster/site", in order
	}{
		{name: "agree", config: seeds, dns: fakeDNS{sites: []string{"eqiad", "codfw", "ulsfo", "esams"}}},
		{name: "shutdown while DNS serves", config: shut, dns: fakeDNS{sites: []string{"eqiad", "codfw", "ulsfo", "esams"}},
			want: []string{"shutdown-while-dns-serves text/ulsfo"}},
		{name: "shutdown after DNS moved", config: shut, dns: fakeDNS{sites: []string{"eqiad", "codfw", "ulsfo", "esams"}, down: map[string]bool{"ulsfo": true}}},
		{name: "DOWN for routing, not DNS", config: seeds, state: "site/esams => DOWN",
			dns:  fakeDNS{sites: []string{"eqiad", "codfw", "ulsfo", "esams"}},
			want: []string{"down-for-routing-not-dns /esams"}},
		{name: "DOWN for both", config: seeds, state: "site/esams => DOWN",
			dns: fakeDNS{sites: []string{"eqiad", "codfw", "ulsfo", "esams"}, down: map[string]bool{"esams": true}}},
		{name: "unknown and unreachable", config: seeds, state: "site/eqiad => DOWN\nsite/codfw => DOWN",
			dns:  fakeDNS{sites: []string{"ulsfo", "drmrs", "eqiad", "codfw"}, down: map[string]bool{"eqiad": true, "codfw": true}},
			want: []string{"dns-site-unknown-to-routing /drmrs", "dns-site-unreachable text/ulsfo"}},
		{name: "site not in cluster", config: strings.Replace(seeds, "      esams: eqiad\n", "", 1), // esams stays under sites:
			dns: fakeDNS{sites: []string{"esams"}}, want: []string{"dns-site-not-in-cluster text/esams"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range Check(mustParse(t, tt.config), mustState(t, tt.state), tt.dns) {
				got = append(got, f.Code+" "+f.Cluster+"/"+f.Site)
				if f.Message == "" || !strings.Contains(f.String(), f.Code) {
					t.Errorf("finding without message: %+v", f)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
