package authdnse2e

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

var cookieRe = regexp.MustCompile(`; COOKIE: ([0-9a-f]{48})`)

// cookieOf is the full cookie (client and server) dig printed.
func cookieOf(t *testing.T, out string) string {
	t.Helper()
	m := cookieRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no 24-byte cookie in dig's output:\n%s", out)
	}
	return m[1]
}

func wantStatus(t *testing.T, out, status string) {
	t.Helper()
	if !regexp.MustCompile(`status: ` + status + `,`).MatchString(out) {
		t.Fatalf("want status %s:\n%s", status, out)
	}
}

// Real dig against two servers sharing cookie_secret_file, as anycast
// nodes would, and one with a secret of its own.
func TestDigCookies(t *testing.T) {
	key := filepath.Join(t.TempDir(), "cookie.key")
	os.WriteFile(key, []byte("# shared by every node\ne5e973e5a6b2a43f48e7dc849e37bfcf\n"), 0o600)
	m1, m2, m3 := testutil.FreeAddr(t), testutil.FreeAddr(t), testutil.FreeAddr(t)
	s1 := startServerWith(t, "metrics: "+m1+"\ncookie_secret_file: "+key+"\n", "")
	s2 := startServerWith(t, "metrics: "+m2+"\ncookie_secret_file: "+key+"\n", "")
	other := startServerWith(t, "metrics: "+m3+"\n", "")

	// The first query carries a client cookie only and learns a server cookie.
	out := s1.dig("+cookie", "static.example.org", "A")
	wantStatus(t, out, "NOERROR")
	cookie := cookieOf(t, out)
	// Sent back, it is recognised.
	out = s1.dig("+cookie="+cookie, "static.example.org", "A")
	wantStatus(t, out, "NOERROR")
	if got := cookieOf(t, out); got != cookie {
		t.Errorf("a recent valid cookie is echoed: got %s, want %s", got, cookie)
	}
	// Over TCP too.
	wantStatus(t, s1.dig("+tcp", "+cookie="+cookie, "static.example.org", "A"), "NOERROR")
	m := scrape(t, m1)
	if m[`authdns_cookie_queries_total{cookie="client_only"}`] != 1 || m[`authdns_cookie_queries_total{cookie="valid"}`] != 2 ||
		m[`authdns_cookie_queries_total{cookie="invalid"}`] != 0 {
		t.Fatalf("server 1 cookie counters: %v", cookieSeries(m))
	}

	// The other node with the same secret accepts it.
	wantStatus(t, s2.dig("+cookie="+cookie, "static.example.org", "A"), "NOERROR")
	if m := scrape(t, m2); m[`authdns_cookie_queries_total{cookie="valid"}`] != 1 {
		t.Fatalf("server 2 cookie counters: %v", cookieSeries(m))
	}

	// A server with another secret answers BADCOOKIE over UDP, with a
	// cookie of its own, and dig's retry with it succeeds.
	out = other.dig("+nobadcookie", "+cookie="+cookie, "static.example.org", "A")
	wantStatus(t, out, "BADCOOKIE")
	fresh := cookieOf(t, out)
	if fresh[:16] != cookie[:16] || fresh == cookie {
		t.Fatalf("BADCOOKIE carries %s, want the client cookie %s and a new server cookie", fresh, cookie[:16])
	}
	wantStatus(t, other.dig("+cookie="+cookie, "static.example.org", "A"), "NOERROR")
	m = scrape(t, m3)
	if m[`authdns_cookie_queries_total{cookie="invalid"}`] != 2 || m[`authdns_cookie_queries_total{cookie="valid"}`] != 1 {
		t.Fatalf("server 3 cookie counters: %v", cookieSeries(m))
	}
	// Over TCP an invalid cookie is answered.
	wantStatus(t, other.dig("+tcp", "+cookie="+cookie, "static.example.org", "A"), "NOERROR")
}

func cookieSeries(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if regexp.MustCompile(`^authdns_cookie`).MatchString(k) {
			out[k] = v
		}
	}
	return out
}
