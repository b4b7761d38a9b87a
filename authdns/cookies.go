package authdns

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/geotraffic/geotraffic/dnsserver"
	"github.com/geotraffic/geotraffic/internal/conf"
)

// loadCookies reads cookie_secret_file: one secret per line, 32 hex
// digits (16 bytes); the first mints and validates server cookies, a
// second (the previous one, during a rotation) validates only. Blank and
// # lines are skipped. It returns nil when cookies are off or the file is
// not set (the daemon then uses a random secret). Errors never quote the
// file's content: it is a secret.
func loadCookies(cfg *Config) (*dnsserver.Cookies, error) {
	if !cfg.Cookies || cfg.CookieSecretFile == "" {
		return nil, nil
	}
	path := cfg.CookieSecretFile
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cookie_secret_file: %w", err)
	}
	var secrets [][dnsserver.CookieSecretLen]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		s := bytes.TrimSpace(sc.Bytes())
		if len(s) == 0 || s[0] == '#' {
			continue
		}
		var k [dnsserver.CookieSecretLen]byte
		if n, err := hex.Decode(k[:], s); err != nil || n != len(k) || len(s) != 2*len(k) {
			return nil, conf.At(path, line).Errorf("cookie_secret_file", "want 32 hex digits (a 16-byte secret), found %d characters that are not", len(s))
		}
		if len(secrets) == 2 {
			return nil, conf.At(path, line).Errorf("cookie_secret_file", "at most two secrets: the current one, then the previous one")
		}
		secrets = append(secrets, k)
	}
	if len(secrets) == 0 {
		return nil, conf.At(path, 1).Errorf("cookie_secret_file", "no secret (want 32 hex digits on the first line)")
	}
	c := dnsserver.NewCookies(secrets[0], nil)
	if len(secrets) == 2 {
		c = dnsserver.NewCookies(secrets[0], &secrets[1])
	}
	c.Description = path
	return c, nil
}

// randomCookies is a secret of this process alone, for cookies without
// cookie_secret_file.
func randomCookies() *dnsserver.Cookies {
	var k [dnsserver.CookieSecretLen]byte
	rand.Read(k[:]) // never fails (crypto/rand)
	c := dnsserver.NewCookies(k, nil)
	c.Description = "random"
	return c
}

// cookieSource says where snap's cookie secret comes from, for logs.
func cookieSource(snap *dnsserver.Snapshot) string {
	if snap.Cookies == nil {
		return "off"
	}
	return snap.Cookies.Description
}
