package authdnse2e

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

const rrlRate = 20

// floodResult is what one source got back from a UDP flood.
type floodResult struct {
	full, tc int
	elapsed  time.Duration
}

// flood sends n queries for name from src over UDP, about one a
// millisecond, and counts the full and TC=1 replies. Replies are waited
// for until the server has counted every query (queriesDone), then the
// socket is drained.
func flood(t *testing.T, src, server, name string, n int, queriesDone func() bool) floodResult {
	t.Helper()
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, net.UDPAddrFromAddrPort(mustAddrPort(t, server)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var res floodResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return // the deadline set once every query was counted
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:k]) != nil {
				continue
			}
			if m.Truncated {
				if len(m.Answer) != 0 {
					t.Errorf("a slipped reply carries %d answers", len(m.Answer))
				}
				res.tc++
			} else if len(m.Answer) > 0 {
				res.full++
			}
		}
	}()
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	start := time.Now()
	for i := range n {
		q.Id = uint16(i)
		b, _ := q.Pack()
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			time.Sleep(10 * time.Millisecond) // pacing the load, not waiting for an event
		}
	}
	testutil.WaitFor(t, "the server to count every flood query", queriesDone)
	conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	<-done
	res.elapsed = time.Since(start)
	return res
}

func mustAddrPort(t *testing.T, a string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// udpQueries is the server's count of UDP queries answered or not.
func udpQueries(m map[string]float64) float64 {
	n := 0.0
	for k, v := range m {
		if strings.HasPrefix(k, "authdns_queries_total{") && strings.Contains(k, `protocol="udp"`) {
			n += v
		}
	}
	return n
}

// fullAnswerFrom sends one query from src over network and tells whether a full
// answer came back (errors are logged: the caller counts, and it may run
// off the test's goroutine).
func fullAnswerFrom(t *testing.T, src, network, server, name string, qtype uint16) bool {
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	if network == "tcp" {
		c.Dialer = &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	} else {
		c.Dialer = &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(src)}, Timeout: 2 * time.Second}
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := c.Exchange(m, server)
	if err != nil {
		t.Logf("%s %s from %s: %v", network, name, src, err)
		return false
	}
	return !r.Truncated && len(r.Answer) > 0
}

// A UDP flood from one address is limited to the configured rate, about
// half of the rest slipped as TC=1; another address, TCP from the flooding
// one, and an exempt network all get full answers meanwhile.
func TestRRLFloodIsLimited(t *testing.T) {
	metrics := testutil.FreeAddr(t)
	s := startServerWith(t, fmt.Sprintf("metrics: %s\nrrl:\n  responses_per_second: %d\n  window: 2\n  slip: 2\n"+
		"  ipv4_prefix: 32\n  exempt: [127.0.0.3/32]\n", metrics, rrlRate), "")
	const n = 2000
	var wg sync.WaitGroup
	others := map[string]int{}
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		// 127.0.0.2 asks each of its names fewer times than the rate;
		// 127.0.0.3 is exempt and asks one name 100 times; TCP from the
		// flooding address is never limited.
		got := map[string]int{}
		for _, name := range []string{"static.example.org.", "mail.example.org.", "ns1.example.org.", "ns2.example.org.", "sip.example.org."} {
			for range rrlRate - 5 {
				if fullAnswerFrom(t, "127.0.0.2", "udp", s.addr, name, dns.TypeA) {
					got["127.0.0.2"]++
				}
			}
		}
		for range 100 {
			if fullAnswerFrom(t, "127.0.0.3", "udp", s.addr, "static.example.org.", dns.TypeA) {
				got["exempt"]++
			}
		}
		for range 10 {
			if fullAnswerFrom(t, "127.0.0.1", "tcp", s.addr, "static.example.org.", dns.TypeA) {
				got["tcp"]++
			}
		}
		mu.Lock()
		others = got
		mu.Unlock()
	}()
	res := flood(t, "127.0.0.1", s.addr, "static.example.org.", n, func() bool {
		return udpQueries(scrape(t, metrics)) >= n+5*(rrlRate-5)+100
	})
	wg.Wait()

	t.Logf("flood of %d over %v: %d full, %d TC=1", n, res.elapsed, res.full, res.tc)
	secs := int(res.elapsed/time.Second) + 1
	if max := rrlRate * (secs + 1); res.full > max || res.full == 0 {
		t.Errorf("flood of %d over %v: %d full answers, want 1 to %d (rate × seconds + burst)", n, res.elapsed, res.full, max)
	}
	limited := n - res.full
	if res.tc < limited*2/5 || res.tc > limited/2+1 {
		t.Errorf("flood: %d TC=1 replies of %d limited, want about half (slip 2)", res.tc, limited)
	}
	want := map[string]int{"127.0.0.2": 5 * (rrlRate - 5), "exempt": 100, "tcp": 10}
	for k, v := range want {
		if others[k] != v {
			t.Errorf("%s: %d full answers, want %d (never limited)", k, others[k], v)
		}
	}
	m := scrape(t, metrics)
	slipped := m[`authdns_rrl_responses_total{action="slipped",kind="response"}`]
	dropped := m[`authdns_rrl_responses_total{action="dropped",kind="response"}`]
	if int(slipped+dropped) != limited || slipped-dropped < 0 || slipped-dropped > 1 {
		t.Errorf("metrics: %v slipped, %v dropped; want %d limited, every other one slipped", slipped, dropped, limited)
	}
	if m["authdns_rrl_table_entries"] < 1 || m["authdns_rrl_table_size"] != 20000 {
		t.Errorf("table metrics: %v entries of %v", m["authdns_rrl_table_entries"], m["authdns_rrl_table_size"])
	}
	if !strings.Contains(s.Logs(), "network=127.0.0.1/32") || strings.Count(s.Logs(), "msg=\"rate limit responses\"") != 1 {
		t.Errorf("want one log line for the flooding network, got:\n%s", s.Logs())
	}
}

// log_only counts what it would limit and limits nothing; a reload that
// turns it off enforces the limit.
func TestRRLLogOnly(t *testing.T) {
	metrics := testutil.FreeAddr(t)
	s := startServerWith(t, fmt.Sprintf("metrics: %s\nrrl:\n  responses_per_second: %d\n  ipv4_prefix: 32\n  log_only: true\n",
		metrics, rrlRate), "")
	const n = 300
	res := flood(t, "127.0.0.1", s.addr, "static.example.org.", n, func() bool { return udpQueries(scrape(t, metrics)) >= n })
	if res.full != n || res.tc != 0 {
		t.Fatalf("log_only: %d full answers and %d TC of %d, want every one full", res.full, res.tc, n)
	}
	m := scrape(t, metrics)
	would := int(m[`authdns_rrl_responses_total{action="slipped",kind="response"}`] + m[`authdns_rrl_responses_total{action="dropped",kind="response"}`])
	secs := int(res.elapsed/time.Second) + 1
	if would < n-rrlRate*(secs+1) || would >= n {
		t.Errorf("log_only counted %d responses it would have limited, want at least %d", would, n-rrlRate*(secs+1))
	}
	if !strings.Contains(s.Logs(), "would rate limit responses") {
		t.Errorf("log_only logs what it would limit:\n%s", s.Logs())
	}

	cfgFile := filepath.Join(s.dir, "authdns.yaml")
	cfg, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfgFile, bytes.Replace(cfg, []byte("log_only: true"), []byte("log_only: false"), 1), 0o644)
	s.sighup()
	res = flood(t, "127.0.0.1", s.addr, "mail.example.org.", n, func() bool { return udpQueries(scrape(t, metrics)) >= 2*n })
	if max := rrlRate * (int(res.elapsed/time.Second) + 2); res.full > max || res.tc == 0 {
		t.Errorf("after a reload without log_only: %d full answers and %d TC of %d, want at most %d full", res.full, res.tc, n, max)
	}
}

// Queries that return a valid server cookie proved their source address:
// rate limiting lets them all through, while the same flood without the
// cookie is limited.
func TestRRLValidCookieIsExempt(t *testing.T) {
	s := startServerWith(t, fmt.Sprintf("rrl:\n  responses_per_second: %d\n  ipv4_prefix: 32\n", rrlRate), "")
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	exchange := func(cookie string) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("static.example.org.", dns.TypeA)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
		r, _, err := c.Exchange(m, s.addr)
		if err != nil {
			return nil
		}
		return r
	}
	first := exchange("0102030405060708")
	if first == nil || first.IsEdns0() == nil {
		t.Fatal("no reply to a query with a client cookie")
	}
	var server string
	for _, o := range first.IsEdns0().Option {
		if ck, ok := o.(*dns.EDNS0_COOKIE); ok {
			server = ck.Cookie
		}
	}
	full := 0
	for range 5 * rrlRate {
		if r := exchange(server); r != nil && !r.Truncated && len(r.Answer) > 0 {
			full++
		}
	}
	if full != 5*rrlRate {
		t.Fatalf("with a valid server cookie %d of %d answered in full, want all", full, 5*rrlRate)
	}
	limited := 0
	for range 2 * rrlRate {
		if r := exchange("0102030405060708"); r == nil || r.Truncated {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("the same queries with a client cookie only were never limited: the test proves nothing")
	}
}
