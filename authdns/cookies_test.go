package authdns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const (
	secretA = "e5e973e5a6b2a43f48e7dc849e37bfcf"
	secretB = "445536bcd2513298075a5d379663c962"
)

func TestCookieConfig(t *testing.T) {
	base := "listen: [\"127.0.0.1:53\"]\nzones: z\n"
	cfg, err := ParseConfig("/etc/x/authdns.yaml", []byte(base))
	if err != nil || !cfg.Cookies || cfg.CookieSecretFile != "" {
		t.Fatalf("default: %v %+v", err, cfg)
	}
	cfg, err = ParseConfig("/etc/x/authdns.yaml", []byte(base+"cookies: false\ncookie_secret_file: cookie.key\n"))
	if err != nil || cfg.Cookies || cfg.CookieSecretFile != "/etc/x/cookie.key" {
		t.Fatalf("set: %v %+v", err, cfg)
	}
	_, err = ParseConfig("/etc/x/authdns.yaml", []byte(base+"cookies: maybe\n"))
	if err == nil || err.Error() != "/etc/x/authdns.yaml:3: cookies: want true or false" {
		t.Fatalf("bad value: %v", err)
	}
}

func TestCookieSecretFile(t *testing.T) {
	dir := t.TempDir()
	load := func(content string) error {
		p := filepath.Join(dir, "cookie.key")
		os.WriteFile(p, []byte(content), 0o600)
		c, err := loadCookies(&Config{Cookies: true, CookieSecretFile: p})
		if err == nil && c == nil {
			t.Fatalf("%q: no cookies", content)
		}
		return err
	}
	if err := load("# rotated 2026-12-01\n" + secretA + "\n\n" + secretB + "\n"); err != nil {
		t.Fatal(err)
	}
	for content, want := range map[string]string{
		"":                              "cookie.key:1: cookie_secret_file: no secret",
		secretA[:30] + "zz\n":           "cookie.key:1: cookie_secret_file: want 32 hex digits (a 16-byte secret), found 32 characters",
		secretA + "\n" + secretA + "0":  "cookie.key:2: cookie_secret_file: want 32 hex digits",
		strings.Repeat(secretA+"\n", 3): "cookie.key:3: cookie_secret_file: at most two secrets",
	} {
		err := load(content)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", content, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), secretA[:8]) || strings.Contains(err.Error(), secretA[8:16])) {
			t.Errorf("the error quotes the secret: %v", err)
		}
	}
	if _, err := loadCookies(&Config{Cookies: true, CookieSecretFile: filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing file must be an error")
	}
	if c, _ := loadCookies(&Config{Cookies: false, CookieSecretFile: filepath.Join(dir, "missing")}); c != nil {
		t.Error("cookies: false still loads a secret")
	}
}

// cookieAsk sends an A query with a COOKIE option (hex) and returns the
// reply's rcode and cookie.
func cookieAsk(t *testing.T, d *Daemon, cookie string) (int, string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
	c := &dns.Client{}
	r, _, err := c.Exchange(m, d.Server().Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range r.IsEdns0().Option {
		if c, ok := o.(*dns.EDNS0_COOKIE); ok {
			return r.Rcode, c.Cookie
		}
	}
	return r.Rcode, ""
}

func TestCookieReloadRotation(t *testing.T) {
	dir0 := t.TempDir()
	key := filepath.Join(dir0, "cookie.key")
	os.WriteFile(key, []byte(secretA+"\n"), 0o600)
	d, _ := testDaemon(t, "cookie_secret_file: "+key+"\n")
	_, first := cookieAsk(t, d, "0102030405060708")
	if len(first) != 48 {
		t.Fatalf("no server cookie: %q", first)
	}
	// Rotation: the new secret first, the old one second; a cookie made
	// with the old one is still accepted and re-issued.
	os.WriteFile(key, []byte(secretB+"\n"+secretA+"\n"), 0o600)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	rc, again := cookieAsk(t, d, first)
	if rc != dns.RcodeSuccess || again == first || len(again) != 48 {
		t.Fatalf("after rotation: rcode %d, cookie %q (was %q)", rc, again, first)
	}
	if s := d.Server().Stats(); s.CookieValid != 1 || s.CookieClientOnly != 1 {
		t.Fatalf("counters: %+v", s)
	}
	// The old secret dropped: its cookie is now refused with BADCOOKIE.
	os.WriteFile(key, []byte(secretB+"\n"), 0o600)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if rc, _ := cookieAsk(t, d, first); rc != dns.RcodeBadCookie {
		t.Fatalf("old secret dropped: rcode %d", rc)
	}
	// A broken file fails the reload and changes nothing.
	os.WriteFile(key, []byte("nope\n"), 0o600)
	if err := d.Reload(); err == nil {
		t.Fatal("a bad secret file reloaded")
	}
	if rc, c := cookieAsk(t, d, again); rc != dns.RcodeSuccess || c != again {
		t.Fatalf("after a failed reload: rcode %d", rc)
	}
}

func TestCookieRandomSecretKeptOverReload(t *testing.T) {
	d, _ := testDaemon(t, "")
	_, first := cookieAsk(t, d, "0102030405060708")
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if rc, c := cookieAsk(t, d, first); rc != dns.RcodeSuccess || c != first {
		t.Fatalf("after reload: rcode %d, cookie %q, want %q", rc, c, first)
	}
}

// checkconf reports a bad secret file with the other errors.
func TestCookieCheckconf(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "zones"), 0o755)
	os.WriteFile(filepath.Join(dir, "zones", "example.com"), []byte(zoneText(1, "")), 0o644)
	os.WriteFile(filepath.Join(dir, "cookie.key"), []byte(secretA+"\nshort\n"), 0o600)
	cfg, err := ParseConfig(filepath.Join(dir, "authdns.yaml"), []byte("listen: [\"127.0.0.1:0\"]\nzones: zones\ncookie_secret_file: cookie.key\ncontrol: off\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Check(cfg, quietLog())
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "cookie.key")+":2: cookie_secret_file: want 32 hex digits") {
		t.Fatalf("checkconf: %v", err)
	}
}
