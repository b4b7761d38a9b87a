package authdnse2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestDigStatic(t *testing.T) {
	s := startServer(t)
	tests := []struct {
		name string
		args []string
		want []string // regexps that must all match dig's output
	}{
		{"A over UDP", []string{"static.example.org", "A"},
			[]string{`status: NOERROR`, `flags: qr aa[ ;]`, `static\.example\.org\.\s+3600\s+IN\s+A\s+192\.0\.2\.80`, `AUTHORITY: 0`}},
		{"AAAA over TCP", []string{"+tcp", "static.example.org", "AAAA"},
			[]string{`status: NOERROR`, `2001:db8::80`}},
		{"NXDOMAIN with SOA", []string{"nope.example.org", "A"},
			[]string{`status: NXDOMAIN`, `flags: qr aa[ ;]`, `example\.org\.\s+300\s+IN\s+SOA`}},
		{"CNAME followed", []string{"alias.example.org", "A"},
			[]string{`alias\.example\.org\.\s+3600\s+IN\s+CNAME\s+static\.example\.org\.`, `static\.example\.org\.\s+3600\s+IN\s+A\s+192\.0\.2\.80`}},
		{"MX with additional", []string{"example.org", "MX"},
			[]string{`IN\s+MX\s+10 mail\.example\.org\.`, `ADDITIONAL SECTION:[\s\S]*mail\.example\.org\.\s+3600\s+IN\s+A\s+192\.0\.2\.25`}},
		{"referral", []string{"+norec", "www.sub.example.org", "A"},
			[]string{`status: NOERROR`, `flags: qr;`, `AUTHORITY SECTION:[\s\S]*sub\.example\.org\.\s+3600\s+IN\s+NS\s+ns1\.sub\.example\.org\.`, `ns1\.sub\.example\.org\.\s+3600\s+IN\s+A\s+192\.0\.2\.54`}},
		{"REFUSED outside our zones", []string{"www.example.com", "A"}, []string{`status: REFUSED`}},
		{"NSID", []string{"+nsid", "static.example.org", "A"}, []string{`NSID: .*\("e2e"\)`}},
		{"CHAOS", []string{"version.bind", "TXT", "CH"}, []string{`"geotraffic-e2e"`}},
		{"ANY is minimal", []string{"static.example.org", "ANY"}, []string{`HINFO\s+"RFC8482" ""`}},
		{"AXFR is NOTIMP", []string{"+notcp", "example.org", "AXFR"}, []string{`NOTIMP|Transfer failed`}},
		{"case echoed", []string{"StAtIc.ExAmPlE.oRg", "A"}, []string{`;StAtIc\.ExAmPlE\.oRg\.\s+IN\s+A`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := s.dig(tt.args...)
			for _, w := range tt.want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("dig %s: no match for %s in\n%s", strings.Join(tt.args, " "), w, out)
				}
			}
		})
	}
}

func TestIPv6AndTCPPipelining(t *testing.T) {
	s := startServer(t)
	r, err := ask(s.addr6, "udp", "static.example.org.", dns.TypeA, "")
	if err != nil || len(r.Answer) != 1 {
		t.Fatalf("over IPv6: %v %v", r, err)
	}
	// Several queries on one TCP connection, sent before reading any reply.
	conn, err := dns.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	names := []string{"static.example.org.", "mail.example.org.", "nope.example.org.", "ns1.example.org."}
	for i, n := range names {
		m := new(dns.Msg)
		m.SetQuestion(n, dns.TypeA)
		m.Id = uint16(100 + i)
		if err := conn.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range names {
		r, err := conn.ReadMsg()
		if err != nil {
			t.Fatal(err)
		}
		if r.Id != uint16(100+i) || r.Question[0].Name != n {
			t.Fatalf("reply %d is for %s (id %d): pipelined replies must come in order", i, r.Question[0].Name, r.Id)
		}
	}
}

// Each continent's test prefix (config/geoip/default-city.csv) reaches the
// site the default geoip.yaml sends it to.
func TestDigSubnetEveryContinent(t *testing.T) {
	s := startServer(t)
	tests := []struct {
		continent, subnet, addr, scope string
	}{
		{"EU (NL)", "192.0.2.0/24", "192.0.2.224", "26"},               // esams
		{"NA (US/CA)", "198.51.100.0/26", "198.51.100.226", "26"},      // ulsfo
		{"NA (US/TX)", "198.51.100.64/26", "198.51.100.225", "26"},     // codfw
		{"AS (SG)", "203.0.113.0/27", "192.0.2.225", "26"},             // eqsin
		{"OC (AU)", "203.0.113.96/27", "192.0.2.225", "27"},            // eqsin
		{"SA (BR)", "203.0.113.160/27", "192.0.2.227", "27"},           // magru
		{"AF (ZA)", "203.0.113.224/27", "192.0.2.226", "27"},           // drmrs
		{"AN (auto)", "100.96.0.0/12", "192.0.2.227", "12"},            // magru, nearest
		{"AS over IPv6 ECS", "2001:db8:600::/40", "192.0.2.225", "39"}, // eqsin
		{"nets override", "10.192.0.0/16", "198.51.100.225", "12"},     // codfw via nets
	}
	for _, tt := range tests {
		t.Run(tt.continent, func(t *testing.T) {
			out := s.dig("+subnet="+tt.subnet, "www.example.org", "A")
			if !regexp.MustCompile(`www\.example\.org\.\s+\d+\s+IN\s+A\s+` + regexp.QuoteMeta(tt.addr) + `\b`).MatchString(out) {
				t.Errorf("want %s:\n%s", tt.addr, out)
			}
			if !regexp.MustCompile(`CLIENT-SUBNET: ` + regexp.QuoteMeta(tt.subnet) + `/` + tt.scope).MatchString(out) {
				t.Errorf("want scope /%s echoed:\n%s", tt.scope, out)
			}
		})
	}
	// The local client (127.0.0.1, no ECS) is in NA/US/VA: eqiad.
	if out := s.dig("+short", "www.example.org", "A"); strings.TrimSpace(out) != "198.51.100.224" {
		t.Errorf("local client: %q", out)
	}
	// A malformed ECS option (bits past the prefix) is FORMERR.
	if out := s.dig("+subnet=192.0.2.1/24", "www.example.org", "A"); !strings.Contains(out, "FORMERR") && !strings.Contains(out, "status: NOERROR") {
		t.Errorf("unexpected: %s", out)
	}
}

// Each UDP socket has a reader blocked in recvmmsg that can hold a scheduler
// P; authdns adds one P per reader so TCP and the control API never wait
// behind them. The default test config has 2 addresses × 2 sockets.
func TestGOMAXPROCSCoversUDPReaders(t *testing.T) {
	s := startServer(t)
	logs := s.Logs()
	m := regexp.MustCompile(`msg="GOMAXPROCS raised for blocking UDP readers" gomaxprocs=(\d+) base=(\d+) udp_readers=(\d+)`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no GOMAXPROCS line in the log:\n%s", logs)
	}
	procs, _ := strconv.Atoi(m[1])
	base, _ := strconv.Atoi(m[2])
	if m[3] != "4" || procs != base+4 || base < 1 {
		t.Errorf("GOMAXPROCS line %q: want udp_readers=4 and gomaxprocs=base+4", m[0])
	}
	// TCP still answers while every UDP reader sits in the kernel.
	if r, err := ask(s.addr, "tcp", "static.example.org.", dns.TypeA, ""); err != nil || len(r.Answer) != 1 {
		t.Fatalf("TCP: %v %v", r, err)
	}
}
