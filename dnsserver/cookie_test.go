package dnsserver

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func secret(t testing.TB, h string) [CookieSecretLen]byte {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != CookieSecretLen {
		t.Fatalf("bad secret %q", h)
	}
	return [CookieSecretLen]byte(b)
}

func TestSipHashReference(t *testing.T) {
	// The SipHash paper's vector: key 00..0f, message 00..0e.
	var key [16]byte
	msg := make([]byte, 15)
	for i := range key {
		key[i] = byte(i)
	}
	for i := range msg {
		msg[i] = byte(i)
	}
	k := sipKey(key)
	if got := sipHash24(k[0], k[1], msg); got != 0xa129ca6149be45e5 {
		t.Fatalf("siphash = %x", got)
	}
}

// rfc9018 runs one step of RFC 9018 Appendix A: the server at unix time
// now receives option (hex) from src and must answer with want (hex,
// client and server cookie) and classify it as status.
func rfc9018(t *testing.T, c *Cookies, now uint32, src, option, want string, status cookieStatus) {
	t.Helper()
	c = c.WithClock(func() time.Time { return time.Unix(int64(now), 0) })
	d, _ := hex.DecodeString(option)
	var o cookieOption
	if !o.parse(d) {
		t.Fatalf("%s does not parse", option)
	}
	c.check(&o, netip.MustParseAddr(src))
	if o.status != status {
		t.Errorf("status %d, want %d", o.status, status)
	}
	if got := hex.EncodeToString(o.client[:]) + hex.EncodeToString(o.out[:]); got != want {
		t.Errorf("answered %s, want %s", got, want)
	}
}

func TestCookieRFC9018Vectors(t *testing.T) {
	c := NewCookies(secret(t, "e5e973e5a6b2a43f48e7dc849e37bfcf"), nil)
	// A.1: a client cookie alone learns a server cookie.
	rfc9018(t, c, 0x5cf79f11, "198.51.100.100", "2464c4abcf10c957",
		"2464c4abcf10c957010000005cf79f111f8130c3eee29480", cookieClientOnly)
	// The same cookie right away is valid and echoed.
	rfc9018(t, c, 0x5cf79f11+10, "198.51.100.100", "2464c4abcf10c957010000005cf79f111f8130c3eee29480",
		"2464c4abcf10c957010000005cf79f111f8130c3eee29480", cookieValid)
	// A.2: 40 minutes later it is still valid, but re-issued.
	rfc9018(t, c, 0x5cf7a871, "198.51.100.100", "2464c4abcf10c957010000005cf79f111f8130c3eee29480",
		"2464c4abcf10c957010000005cf7a871d4a564a1442aca77", cookieValid)
	// From another address it is not ours.
	rfc9018(t, c, 0x5cf79f11+10, "198.51.100.101", "2464c4abcf10c957010000005cf79f111f8130c3eee29480",
		"2464c4abcf10c957010000005cf79f1b"+mintHash(c, "2464c4abcf10c957", 0x5cf79f11+10, "198.51.100.101"), cookieInvalid)
	// A.3: after a rollover, a cookie made with the previous secret is
	// accepted and re-issued under the new one, although only 144 s old.
	rolled := NewCookies(secret(t, "445536bcd2513298075a5d379663c962"),
		new(secret(t, "dd3bdf9344b678b185a6f5cb60fca715")))
	rfc9018(t, rolled, 0x5cf7c609, "2001:db8:220:1:59de:d0f4:8769:82b8",
		"22681ab97d52c298010000005cf7c57926556bd0934c72f8",
		"22681ab97d52c298010000005cf7c609a6bb79d16625507a", cookieValid)
	// Without the previous secret it is invalid.
	fresh := NewCookies(secret(t, "445536bcd2513298075a5d379663c962"), nil)
	rfc9018(t, fresh, 0x5cf7c609, "2001:db8:220:1:59de:d0f4:8769:82b8",
		"22681ab97d52c298010000005cf7c57926556bd0934c72f8",
		"22681ab97d52c298010000005cf7c609a6bb79d16625507a", cookieInvalid)
}

// mintHash is the hash part of the cookie c mints for client at now.
func mintHash(c *Cookies, client string, now uint32, src string) string {
	var o cookieOption
	hex.Decode(o.client[:], []byte(client))
	c.mint(&o, netip.MustParseAddr(src), now)
	return hex.EncodeToString(o.out[8:])
}

func TestCookieWindow(t *testing.T) {
	c := NewCookies(secret(t, "e5e973e5a6b2a43f48e7dc849e37bfcf"), nil)
	src := netip.MustParseAddr("192.0.2.1")
	made := uint32(1_000_000)
	var o cookieOption
	hex.Decode(o.client[:], []byte("0102030405060708"))
	c.mint(&o, src, made)
	for _, tc := range []struct {
		at   int64
		want bool
	}{{0, true}, {3600, true}, {3601, false}, {-300, true}, {-301, false}} {
		o.server = append([]byte(nil), o.out[:]...)
		if got := c.valid(&o, src, uint32(int64(made)+tc.at), c.cur); got != tc.want {
			t.Errorf("%+d s after minting: valid=%v, want %v", tc.at, got, tc.want)
		}
	}
}

// cookieSnapshot is testSnapshot with cookies, at a fixed time.
func cookieSnapshot(t testing.TB, now time.Time) *Snapshot {
	s := testSnapshot(t)
	s.Cookies = NewCookies(secret(t, "e5e973e5a6b2a43f48e7dc849e37bfcf"), nil).WithClock(func() time.Time { return now })
	return s
}

// withCookie adds a COOKIE option (hex) to q.
func withCookie(q *dns.Msg, h string) *dns.Msg {
	if q.IsEdns0() == nil {
		q.SetEdns0(1232, false)
	}
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: h})
	return q
}

func cookieOf(t *testing.T, r *dns.Msg) string {
	t.Helper()
	if r.IsEdns0() == nil {
		return ""
	}
	for _, o := range r.IsEdns0().Option {
		if c, ok := o.(*dns.EDNS0_COOKIE); ok {
			return c.Cookie
		}
	}
	return ""
}

// cookieExchange answers q from src with a fresh worker and returns the
// reply and the worker (its request and counters).
func cookieExchange(t *testing.T, snap *Snapshot, q *dns.Msg, src string, tcp bool) (*dns.Msg, *worker) {
	t.Helper()
	p, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	wk := newWorker(new(Stats))
	out := wk.answer(snap, p, netip.MustParseAddr(src), tcp, make([]byte, 0, 65537))
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil {
		t.Fatalf("reply does not unpack: %v", err)
	}
	return m, wk
}

const client = "0102030405060708"

func TestCookieAnswers(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	snap := cookieSnapshot(t, now)
	src := "192.0.2.1"

	// A client cookie alone: a normal answer and a new server cookie.
	r, wk := cookieExchange(t, snap, withCookie(query("www.example.org.", dns.TypeA), client), src, false)
	got := cookieOf(t, r)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 || len(got) != 48 || !strings.HasPrefix(got, client+"01000000") {
		t.Fatalf("client only: rcode %d, %d answers, cookie %q", r.Rcode, len(r.Answer), got)
	}
	if s := wk.stats; s.CookieClientOnly.Load() != 1 || wk.req.serverCookieOK {
		t.Fatal("client only: not counted as such")
	}

	// Sent back: valid, echoed unchanged, and marked for rate limiting.
	r, wk = cookieExchange(t, snap, withCookie(query("www.example.org.", dns.TypeA), got), src, false)
	if r.Rcode != dns.RcodeSuccess || cookieOf(t, r) != got || !wk.req.serverCookieOK || wk.stats.CookieValid.Load() != 1 {
		t.Fatalf("valid cookie: rcode %d, cookie %q, ok=%v", r.Rcode, cookieOf(t, r), wk.req.serverCookieOK)
	}

	// From another address it is invalid: BADCOOKIE over UDP, with no
	// records, AA clear and a new cookie to retry with.
	r, wk = cookieExchange(t, snap, withCookie(query("www.example.org.", dns.TypeA), got), "192.0.2.2", false)
	fresh := cookieOf(t, r)
	if r.Rcode != dns.RcodeBadCookie || len(r.Answer)+len(r.Ns) != 0 || r.Authoritative || fresh == got || len(fresh) != 48 {
		t.Fatalf("invalid over UDP: rcode %d, %d answers, aa=%v, cookie %q", r.Rcode, len(r.Answer), r.Authoritative, fresh)
	}
	if wk.req.serverCookieOK || wk.stats.CookieInvalid.Load() != 1 {
		t.Fatal("invalid cookie: counted wrong or marked valid")
	}
	// Over TCP the same query is answered, with the new cookie.
	r, _ = cookieExchange(t, snap, withCookie(query("www.example.org.", dns.TypeA), got), "192.0.2.2", true)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 || cookieOf(t, r) != fresh {
		t.Fatalf("invalid over TCP: rcode %d, cookie %q", r.Rcode, cookieOf(t, r))
	}

	// The retry with the new cookie is valid.
	r, _ = cookieExchange(t, snap, withCookie(query("www.example.org.", dns.TypeA), fresh), "192.0.2.2", false)
	if r.Rcode != dns.RcodeSuccess || cookieOf(t, r) != fresh {
		t.Fatalf("retry: rcode %d", r.Rcode)
	}

	// 31 minutes later: still valid, re-issued with a new timestamp.
	later := cookieSnapshot(t, now.Add(31*time.Minute))
	r, wk = cookieExchange(t, later, withCookie(query("www.example.org.", dns.TypeA), got), src, false)
	ts := make([]byte, 4)
	binary.BigEndian.PutUint32(ts, uint32(now.Add(31*time.Minute).Unix()))
	if !wk.req.serverCookieOK || cookieOf(t, r)[24:32] != hex.EncodeToString(ts) {
		t.Fatalf("old cookie: ok=%v, answered %q", wk.req.serverCookieOK, cookieOf(t, r))
	}
	// Two hours later: expired, so BADCOOKIE.
	expired := cookieSnapshot(t, now.Add(2*time.Hour))
	if r, _ = cookieExchange(t, expired, withCookie(query("www.example.org.", dns.TypeA), got), src, false); r.Rcode != dns.RcodeBadCookie {
		t.Fatalf("expired cookie: rcode %d", r.Rcode)
	}
	// A server cookie of another format (8 bytes) is not ours.
	if r, _ = cookieExchange(t, snap, withCookie(query("www.example.org.", dns.TypeA), client+"0102030405060708"), src, false); r.Rcode != dns.RcodeBadCookie {
		t.Fatalf("8-byte server cookie: rcode %d", r.Rcode)
	}
}

func TestCookieMalformed(t *testing.T) {
	snap := cookieSnapshot(t, time.Unix(1_800_000_000, 0))
	for _, n := range []int{0, 1, 7, 9, 15, 41, 64} {
		r, _ := cookieExchange(t, snap, withCookie(query("www.example.org.", dns.TypeA), strings.Repeat("ab", n)), "192.0.2.1", false)
		if r.Rcode != dns.RcodeFormatError {
			t.Errorf("%d-byte option: rcode %d, want FORMERR", n, r.Rcode)
		}
	}
	for _, n := range []int{8, 16, 40} {
		r, _ := cookieExchange(t, snap, withCookie(query("www.example.org.", dns.TypeA), strings.Repeat("ab", n)), "192.0.2.1", true)
		if r.Rcode != dns.RcodeSuccess {
			t.Errorf("%d-byte option over TCP: rcode %d, want NOERROR", n, r.Rcode)
		}
	}
	// Only the first COOKIE option counts.
	q := withCookie(withCookie(query("www.example.org.", dns.TypeA), client), "ab")
	if r, _ := cookieExchange(t, snap, q, "192.0.2.1", false); r.Rcode != dns.RcodeSuccess || !strings.HasPrefix(cookieOf(t, r), client) {
		t.Errorf("second option: rcode %d", r.Rcode)
	}
}

func TestCookieEveryReply(t *testing.T) {
	snap := cookieSnapshot(t, time.Unix(1_800_000_000, 0))
	// TC=1: six 100-byte TXT records do not fit in 512 bytes.
	q := withCookie(query("big.example.org.", dns.TypeTXT), client)
	q.IsEdns0().SetUDPSize(512)
	r, _ := cookieExchange(t, snap, q, "192.0.2.1", false)
	if !r.Truncated || !strings.HasPrefix(cookieOf(t, r), client) {
		t.Fatalf("TC=1 reply: tc=%v cookie %q", r.Truncated, cookieOf(t, r))
	}
	// NXDOMAIN, REFUSED (another class), NOTIMP (AXFR) and CHAOS.
	for _, q := range []*dns.Msg{query("nope.example.org.", dns.TypeA), query("www.example.com.", dns.TypeA),
		query("www.example.org.", dns.TypeAXFR), chaosQuery()} {
		r, _ := cookieExchange(t, snap, withCookie(q, client), "192.0.2.1", false)
		if !strings.HasPrefix(cookieOf(t, r), client) {
			t.Errorf("%s rcode %d: no cookie", q.Question[0].Name, r.Rcode)
		}
	}
	// Cookies off: the option is ignored.
	off := testSnapshot(t)
	if r, _ := cookieExchange(t, off, withCookie(query("www.example.org.", dns.TypeA), client+"0000"+strings.Repeat("00", 14)), "192.0.2.1", false); r.Rcode != dns.RcodeSuccess || cookieOf(t, r) != "" {
		t.Fatalf("cookies off: rcode %d, cookie %q", r.Rcode, cookieOf(t, r))
	}
}

func chaosQuery() *dns.Msg {
	q := query("version.bind.", dns.TypeTXT)
	q.Question[0].Qclass = dns.ClassCHAOS
	return q
}

// The UDP cache replays the body; the cookie is written per query.
func TestCookieCached(t *testing.T) {
	snap := cookieSnapshot(t, time.Unix(1_800_000_000, 0))
	wk := newUDPWorker(new(Stats))
	out := make([]byte, 0, 65537)
	var seen []string
	for _, c := range []string{client, "1112131415161718"} {
		p, _ := withCookie(query("www.example.org.", dns.TypeA), c).Pack()
		m := new(dns.Msg)
		if err := m.Unpack(wk.answer(snap, p, netip.MustParseAddr("192.0.2.1"), false, out)); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, cookieOf(t, m))
	}
	if wk.stats.CacheHits.Load() != 1 || !strings.HasPrefix(seen[1], "1112131415161718") || seen[0][16:] == seen[1][16:] {
		t.Fatalf("cached reply: hits %d, cookies %q", wk.stats.CacheHits.Load(), seen)
	}
}

func TestCookieAllocs(t *testing.T) {
	snap := cookieSnapshot(t, time.Unix(1_800_000_000, 0))
	r, _ := cookieExchange(t, snap, withCookie(query("www.example.org.", dns.TypeA), client), "192.0.2.1", false)
	assertNoAllocs(t, snap, withCookie(query("www.example.org.", dns.TypeA), client))
	assertNoAllocs(t, snap, withCookie(query("www.example.org.", dns.TypeA), cookieOf(t, r)))
}

// The cookie benchmarks pair with their EDNS-only twins: the same query
// with and without a (valid) server cookie.
func benchCookie(b *testing.B, cached, cookie bool) {
	snap := cookieSnapshot(b, time.Now())
	q := query("www.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	if cookie {
		var o cookieOption
		hex.Decode(o.client[:], []byte(client))
		snap.Cookies.mint(&o, netip.MustParseAddr("192.0.2.1"), snap.Cookies.clock())
		withCookie(q, client+hex.EncodeToString(o.out[:]))
	}
	benchWorker(b, snap, q, cached)
}

func BenchmarkAnswerStaticAEDNS(b *testing.B)         { benchCookie(b, false, false) }
func BenchmarkAnswerStaticACookie(b *testing.B)       { benchCookie(b, false, true) }
func BenchmarkAnswerStaticAEDNSCached(b *testing.B)   { benchCookie(b, true, false) }
func BenchmarkAnswerStaticACookieCached(b *testing.B) { benchCookie(b, true, true) }

// BenchmarkCookieCheck is the cost a valid cookie adds to a query:
// validating it (one SipHash over 20 bytes and a clock read).
func BenchmarkCookieCheck(b *testing.B) {
	c := NewCookies(secret(b, "e5e973e5a6b2a43f48e7dc849e37bfcf"), nil)
	src := netip.MustParseAddr("192.0.2.1")
	var o cookieOption
	hex.Decode(o.client[:], []byte(client))
	c.mint(&o, src, c.clock())
	o.server = append([]byte(nil), o.out[:]...)
	b.ReportAllocs()
	for b.Loop() {
		c.check(&o, src)
	}
}

func TestCookiePriming(t *testing.T) {
	snap := cookieSnapshot(t, time.Unix(1_800_000_000, 0))
	prime := func(cookie string) *dns.Msg {
		q := new(dns.Msg)
		q.Id = 77
		if cookie != "" {
			withCookie(q, cookie)
		}
		return q
	}
	r, wk := cookieExchange(t, snap, prime(client), "192.0.2.1", false)
	if r.Rcode != dns.RcodeSuccess || r.Id != 77 || len(r.Question)+len(r.Answer) != 0 || len(cookieOf(t, r)) != 48 || wk.stats.CookieClientOnly.Load() != 1 {
		t.Fatalf("priming: rcode %d, cookie %q", r.Rcode, cookieOf(t, r))
	}
	if r, _ = cookieExchange(t, snap, prime(cookieOf(t, r)), "192.0.2.9", false); r.Rcode != dns.RcodeBadCookie {
		t.Fatalf("priming with an invalid cookie: rcode %d", r.Rcode)
	}
	// Without a cookie, or with cookies off, QDCOUNT 0 stays FORMERR.
	if r, _ = cookieExchange(t, snap, prime(""), "192.0.2.1", false); r.Rcode != dns.RcodeFormatError {
		t.Fatalf("no question, no cookie: rcode %d", r.Rcode)
	}
	if r, _ = cookieExchange(t, testSnapshot(t), prime(client), "192.0.2.1", false); r.Rcode != dns.RcodeFormatError {
		t.Fatalf("cookies off: rcode %d", r.Rcode)
	}
}
