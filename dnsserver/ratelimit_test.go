package dnsserver

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/dnsserver/rrl"
)

// rrlSnapshot is testSnapshot with a limiter of rate 2, slip 2 and /32s.
func rrlSnapshot(t testing.TB, cfg func(*rrl.Config)) *Snapshot {
	snap := testSnapshot(t)
	c := rrl.Config{ResponsesPerSecond: 2, NXDomainsPerSecond: 2, ErrorsPerSecond: 2, Window: 15, Slip: 2,
		IPv4Prefix: 32, IPv6Prefix: 56, TableSize: 100}
	if cfg != nil {
		cfg(&c)
	}
	snap.RRL = rrl.New(c, nil, nil)
	return snap
}

// replies answers q n times from src and returns the replies (nil: dropped).
func replies(t *testing.T, snap *Snapshot, q *dns.Msg, src string, tcp bool, n int) []*dns.Msg {
	t.Helper()
	p, _ := q.Pack()
	wk := newWorker(new(Stats))
	out := make([]byte, 0, 65537)
	var got []*dns.Msg
	for range n {
		b := wk.answer(snap, p, netip.MustParseAddr(src), tcp, out)
		if b == nil {
			got = append(got, nil)
			continue
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatalf("reply does not parse: %v", err)
		}
		got = append(got, m)
	}
	return got
}

func tally(ms []*dns.Msg) (full, tc, dropped int) {
	for _, m := range ms {
		switch {
		case m == nil:
			dropped++
		case m.Truncated:
			tc++
		default:
			full++
		}
	}
	return
}

func TestRRLSlipIsAnEmptyTCAnswer(t *testing.T) {
	snap := rrlSnapshot(t, nil)
	q := query("www.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	got := replies(t, snap, q, "192.0.2.1", false, 6)
	if full, tc, dropped := tally(got); full != 2 || tc != 2 || dropped != 2 {
		t.Fatalf("6 answers at rate 2, slip 2: %d full, %d TC, %d dropped; want 2, 2, 2", full, tc, dropped)
	}
	s := got[2]
	if !s.Truncated || len(s.Answer)+len(s.Ns) != 0 || len(s.Question) != 1 || s.Question[0].Name != "www.example.org." ||
		s.IsEdns0() == nil || len(s.Extra) != 1 || s.Id != q.Id || !s.Authoritative {
		t.Fatalf("slipped reply: want TC, AA, the question, the OPT record and no records; got\n%v", s)
	}
}

func TestRRLNXDomainSlipKeepsRcodeAndZoneAccount(t *testing.T) {
	snap := rrlSnapshot(t, nil)
	// Different names in one zone share the NXDOMAIN account.
	var got []*dns.Msg
	for _, name := range []string{"a.example.org.", "b.example.org.", "c.example.org.", "d.example.org."} {
		got = append(got, replies(t, snap, query(name, dns.TypeA), "192.0.2.1", false, 1)...)
	}
	if full, tc, _ := tally(got); full != 2 || tc != 1 || got[2].Rcode != dns.RcodeNameError {
		t.Fatalf("NXDOMAIN for 4 names of one zone: %d full, %d TC (rcode %v)", full, tc, got[2])
	}
}

func TestRRLExemptions(t *testing.T) {
	snap := rrlSnapshot(t, nil)
	q := query("www.example.org.", dns.TypeA)
	if full, _, _ := tally(replies(t, snap, q, "192.0.2.1", true, 10)); full != 10 {
		t.Errorf("TCP: %d of 10 answered; TCP is never limited", full)
	}
	if full, _, _ := tally(replies(t, snap, q, "192.0.2.3", false, 10)); full != 2 {
		t.Errorf("another address: %d of 10 answered, want 2 (the test is void)", full)
	}
}

func TestRRLECSDoesNotChangeAccounting(t *testing.T) {
	snap := rrlSnapshot(t, nil)
	var got []*dns.Msg
	for _, subnet := range []string{"203.0.113.0", "198.51.100.0", "192.0.2.0", "100.64.0.0"} {
		got = append(got, replies(t, snap, withECS(query("www.example.org.", dns.TypeA), 1, 24, subnet), "192.0.2.9", false, 1)...)
	}
	if full, _, _ := tally(got); full != 2 {
		t.Fatalf("4 queries from one source with 4 ECS subnets: %d answered, want 2 (the source is accounted)", full)
	}
}

func TestRRLErrorsAreDroppedNotSlipped(t *testing.T) {
	snap := rrlSnapshot(t, nil)
	got := replies(t, snap, query("www.example.com.", dns.TypeA), "192.0.2.1", false, 6) // REFUSED
	if full, tc, dropped := tally(got); full != 2 || tc != 0 || dropped != 4 {
		t.Fatalf("REFUSED at rate 2: %d full, %d TC, %d dropped; want 2, 0, 4", full, tc, dropped)
	}
	if snap.RRL.Stats().Dropped[rrl.Error].Load() != 4 {
		t.Fatalf("error drops counted: %d", snap.RRL.Stats().Dropped[rrl.Error].Load())
	}
}

func TestRRLReferralAccountIsTheDelegation(t *testing.T) {
	snap := rrlSnapshot(t, nil)
	var got []*dns.Msg
	for _, name := range []string{"a.child.example.org.", "b.child.example.org.", "www.child.example.org."} {
		got = append(got, replies(t, snap, query(name, dns.TypeA), "192.0.2.1", false, 1)...)
	}
	if full, _, _ := tally(got); full != 2 {
		t.Fatalf("referrals to one delegation for 3 names: %d full, want 2", full)
	}
	if snap.RRL.Stats().Slipped[rrl.Referral].Load() != 1 {
		t.Fatal("the limited referral was not counted as one")
	}
}

func TestRRLAnswerAllocs(t *testing.T) {
	snap := rrlSnapshot(t, func(c *rrl.Config) { c.ResponsesPerSecond = rrl.MaxRate })
	assertNoAllocs(t, snap, query("www.example.org.", dns.TypeA))
	limited := rrlSnapshot(t, nil)
	assertNoAllocs(t, limited, query("www.example.org.", dns.TypeA)) // after 2: slips and drops
}

// Through the whole answer path: a slip carries the client's cookie back
// (with a server cookie), and a query returning a valid server cookie is
// not limited.
func TestRRLCookies(t *testing.T) {
	snap := rrlSnapshot(t, nil)
	snap.Cookies = NewCookies([CookieSecretLen]byte{1, 2, 3}, nil)
	const client = "0102030405060708"
	got := replies(t, snap, withCookie(query("www.example.org.", dns.TypeA), client), "192.0.2.1", false, 3)
	slip := got[2]
	if slip == nil || !slip.Truncated || len(cookieOf(t, slip)) <= len(client) || cookieOf(t, slip)[:len(client)] != client {
		t.Fatalf("the slipped reply must carry the client's cookie and a server cookie: %v", slip)
	}
	full := cookieOf(t, got[0])
	if full, _, _ := tally(replies(t, snap, withCookie(query("www.example.org.", dns.TypeA), full), "192.0.2.1", false, 10)); full != 10 {
		t.Fatalf("with a valid server cookie: %d of 10 answered, want all (exempt)", full)
	}
}
