package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// maxFileSize bounds what is read of a key file: real ones are under 1 KiB.
const maxFileSize = 64 << 10

// ReadKey reads the key pair base.key and base.private, as dnssec-keygen
// writes them (base may also be given with its .key or .private suffix).
// The .private file's timing is the key's when it has any (BIND reads its
// metadata there), else the .key file's timing comments. It refuses keys
// whose owner is not the zone of the file name, algorithms other than 13
// and 15, DNSKEYs without the ZONE flag or with a protocol other than 3, a
// private key that does not match the public one, and a private file that
// others can read or the group can write (0600 and 0640 are fine).
// Errors name file:line.
func ReadKey(base string) (*Key, error) {
	if b, ok := strings.CutSuffix(base, ".key"); ok {
		base = b
	} else if b, ok := strings.CutSuffix(base, ".private"); ok {
		base = b
	}
	zone, alg, tag, err := parseBaseName(filepath.Base(base))
	if err != nil {
		return nil, fmt.Errorf("%s.key: %w", base, err)
	}
	key, timing, err := readPublic(base+".key", zone)
	if err != nil {
		return nil, err
	}
	if key.Algorithm != alg || key.KeyTag() != tag {
		return nil, fmt.Errorf("%s.key: the file name says algorithm %d, tag %d; the key is algorithm %d, tag %d",
			base, alg, tag, key.Algorithm, key.KeyTag())
	}
	signer, ptiming, err := readPrivate(base+".private", key)
	if err != nil {
		return nil, err
	}
	if !ptiming.Zero() {
		timing = ptiming
	}
	return &Key{Zone: zone, DNSKEY: key, Signer: signer, Timing: timing, File: base}, nil
}

// parseBaseName splits K<zone>+<alg>+<tag> (the zone with or without its
// trailing dot).
func parseBaseName(name string) (zone string, alg uint8, tag uint16, err error) {
	bad := fmt.Errorf("file name %q: want K<zone>+<algorithm>+<tag>", name)
	rest, ok := strings.CutPrefix(name, "K")
	i := strings.LastIndexByte(rest, '+')
	if !ok || i < 1 {
		return "", 0, 0, bad
	}
	j := strings.LastIndexByte(rest[:i], '+')
	if j < 1 {
		return "", 0, 0, bad
	}
	a, err1 := strconv.ParseUint(rest[j+1:i], 10, 8)
	t, err2 := strconv.ParseUint(rest[i+1:], 10, 16)
	if err1 != nil || err2 != nil {
		return "", 0, 0, bad
	}
	zone = dns.CanonicalName(rest[:j])
	if _, ok := dns.IsDomainName(zone); !ok {
		return "", 0, 0, bad
	}
	return zone, uint8(a), uint16(t), nil
}

// readFile reads a key file, refusing one too large to be a key.
func readFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a key file", file, maxFileSize)
	}
	return b, nil
}

// unixLines reads DOS line ends as Unix ones, so that line numbers count
// lines.
func unixLines(b []byte) string { return string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))) }

// readPublic reads a .key file: timing comments and one DNSKEY record
// owned by zone.
func readPublic(file, zone string) (*dns.DNSKEY, Timing, error) {
	b, err := readFile(file)
	if err != nil {
		return nil, Timing{}, err
	}
	return parsePublic(file, b, zone)
}

// parsePublic parses the text b of the .key file named file.
func parsePublic(file string, b []byte, zone string) (*dns.DNSKEY, Timing, error) {
	var timing Timing
	text := unixLines(b)
	start := 0
	for i, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if c, ok := strings.CutPrefix(l, ";"); ok {
			if err := timingComment(&timing, c); err != nil {
				return nil, timing, fmt.Errorf("%s:%d: %w", file, i+1, err)
			}
		} else if l != "" && start == 0 {
			start = i + 1
		}
	}
	zp := dns.NewZoneParser(strings.NewReader(text), "", "")
	zp.SetDefaultTTL(0) // as written: dnssec-keygen puts a TTL only with -L
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil {
		return nil, timing, parseError(file, start, err)
	}
	if !ok {
		return nil, timing, fmt.Errorf("%s: no DNSKEY record", file)
	}
	at := fmt.Sprintf("%s:%d", file, start)
	if _, more := zp.Next(); more || zp.Err() != nil {
		return nil, timing, fmt.Errorf("%s: more than one record: want one DNSKEY", at)
	}
	key, ok := rr.(*dns.DNSKEY)
	if !ok || key.Hdr.Class != dns.ClassINET {
		return nil, timing, fmt.Errorf("%s: want an IN DNSKEY record, not %s %s", at,
			dns.ClassToString[rr.Header().Class], dns.TypeToString[rr.Header().Rrtype])
	}
	if err := checkDNSKEY(key, zone); err != nil {
		return nil, timing, fmt.Errorf("%s: %w", at, err)
	}
	key.Hdr.Name = zone
	return key, timing, nil
}

// parseError is miekg/dns's parse error as file:line: reason (line 0:
// the record's first line).
func parseError(file string, line int, err error) error {
	s := strings.TrimPrefix(err.Error(), "dns: ")
	if i := strings.LastIndex(s, " at line: "); i >= 0 {
		pos, _, _ := strings.Cut(s[i+len(" at line: "):], ":")
		if n, err := strconv.Atoi(pos); err == nil && n > 0 {
			line = n
		}
		s = s[:i]
	}
	return fmt.Errorf("%s:%d: %s", file, line, s)
}

// timingComment reads "Publish: 20261206123145 (Sun Dec  6 ...)" from a
// comment of a .key file; other comments are ignored.
func timingComment(t *Timing, c string) error {
	name, value, ok := strings.Cut(strings.TrimSpace(c), ":")
	if !ok || strings.ContainsAny(name, " \t") {
		return nil
	}
	f := timingField(t, name)
	if f == nil {
		return nil
	}
	stamp, _, _ := strings.Cut(strings.TrimSpace(value), " ")
	v, err := parseStamp(stamp)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	*f = v
	return nil
}

// checkDNSKEY checks what makes a DNSKEY usable to sign zone.
func checkDNSKEY(k *dns.DNSKEY, zone string) error {
	switch {
	case dns.CanonicalName(k.Hdr.Name) != zone:
		return fmt.Errorf("owner %s is not the zone of the file name, %s", k.Hdr.Name, zone)
	case k.Protocol != 3:
		return fmt.Errorf("protocol %d: a DNSKEY's protocol is 3", k.Protocol)
	case k.Flags&dns.ZONE == 0:
		return fmt.Errorf("flags %d: not a zone key (the ZONE flag, 256, is not set)", k.Flags)
	}
	if err := checkAlgorithm(k.Algorithm); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(k.PublicKey)
	switch {
	case err != nil:
		return fmt.Errorf("public key: not base64: %w", err)
	case len(b) != publicKeySize[k.Algorithm]:
		return fmt.Errorf("public key: %d bytes: algorithm %d's are %d", len(b), k.Algorithm, publicKeySize[k.Algorithm])
	}
	return nil
}

// publicKeySize is the size of a DNSKEY's key by algorithm: P-256's X||Y
// (RFC 6605), Ed25519's key (RFC 8080).
var publicKeySize = map[uint8]int{dns.ECDSAP256SHA256: 64, dns.ED25519: ed25519.PublicKeySize}

// checkAlgorithm accepts the algorithms authdns signs with.
func checkAlgorithm(alg uint8) error {
	if alg == dns.ECDSAP256SHA256 || alg == dns.ED25519 {
		return nil
	}
	name := dns.AlgorithmToString[alg]
	if name == "" {
		name = "unknown"
	}
	return fmt.Errorf("algorithm %d (%s) is not supported: use 13 (ECDSAP256SHA256) or 15 (ED25519)", alg, name)
}
