package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Generate makes a new key pair for zone: alg 13 (ECDSA P-256) or 15
// (Ed25519), flags 257 (KSK or CSK) or 256 (ZSK). Created, Publish and
// Activate are now, as dnssec-keygen sets them; the caller may change the
// timing before writing the key.
func Generate(zone string, alg uint8, flags uint16, now time.Time) (*Key, error) {
	if err := checkAlgorithm(alg); err != nil {
		return nil, err
	}
	if flags != dns.ZONE && flags != dns.ZONE|dns.SEP {
		return nil, fmt.Errorf("flags %d: want 257 (KSK or CSK) or 256 (ZSK)", flags)
	}
	zone = dns.CanonicalName(zone)
	if _, ok := dns.IsDomainName(zone); !ok {
		return nil, fmt.Errorf("zone %q: not a domain name", zone)
	}
	key := &dns.DNSKEY{
		Hdr:   dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET},
		Flags: flags, Protocol: 3, Algorithm: alg,
	}
	var signer crypto.Signer
	var pub []byte
	switch alg {
	case dns.ECDSAP256SHA256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		b, err := k.PublicKey.Bytes()
		if err != nil {
			return nil, err
		}
		signer, pub = k, b[1:]
	case dns.ED25519:
		p, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		signer, pub = k, p
	}
	key.PublicKey = base64.StdEncoding.EncodeToString(pub)
	now = now.UTC().Truncate(time.Second)
	return &Key{Zone: zone, DNSKEY: key, Signer: signer,
		Timing: Timing{Created: now, Publish: now, Activate: now}}, nil
}

// BaseName is the key's file name without suffix, as BIND names it:
// K<zone>+<alg>+<tag>.
func (k *Key) BaseName() string {
	return fmt.Sprintf("K%s+%03d+%05d", k.Zone, k.DNSKEY.Algorithm, k.Tag())
}

// Write writes the key into dir as dnssec-keygen does: BaseName().key
// (mode 0644) and BaseName().private (format v1.3, mode 0600), both with
// the timing. It never replaces a file; on success k.File is the base path
// it returns. The .private comes first and the .key appears whole, so a
// daemon reading dir meanwhile (LoadDir) sees the key complete or not at
// all.
func (k *Key) Write(dir string) (string, error) {
	priv, err := k.privateText()
	if err != nil {
		return "", err
	}
	base := filepath.Join(dir, k.BaseName())
	if err := createNew(base+".private", priv, 0o600); err != nil {
		return "", err
	}
	if err := createNew(base+".key", k.publicText(), 0o644); err != nil {
		os.Remove(base + ".private")
		return "", err
	}
	k.File = base
	return base, nil
}

// createNew writes a file that must not exist yet: into a temporary file
// beside it (a name LoadDir skips), then linked into place, which fails
// if the name exists.
func createNew(name, text string, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".new-key-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), name)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// publicText is the .key file: what kind of key, the timing as comments,
// then the DNSKEY record with its key split every 56 characters.
func (k *Key) publicText() string {
	var b strings.Builder
	kind := "zone-signing"
	if k.KSK() {
		kind = "key-signing"
	}
	if k.DNSKEY.Flags&dns.REVOKE != 0 {
		kind = "revoked " + kind
	}
	fmt.Fprintf(&b, "; This is a %s key, keyid %d, for %s\n", kind, k.Tag(), k.Zone)
	for _, f := range timingFields {
		if v := *f.field(&k.Timing); !v.IsZero() {
			fmt.Fprintf(&b, "; %s: %s (%s)\n", f.name, FormatStamp(v), v.UTC().Format("Mon Jan _2 15:04:05 2006"))
		}
	}
	ttl := ""
	if k.DNSKEY.Hdr.Ttl != 0 {
		ttl = fmt.Sprintf(" %d", k.DNSKEY.Hdr.Ttl)
	}
	fmt.Fprintf(&b, "%s%s IN DNSKEY %d %d %d %s\n", k.Zone, ttl, k.DNSKEY.Flags, k.DNSKEY.Protocol,
		k.DNSKEY.Algorithm, splitBase64(k.DNSKEY.PublicKey, 56))
	return b.String()
}

func splitBase64(s string, n int) string {
	var parts []string
	for len(s) > n {
		parts, s = append(parts, s[:n]), s[n:]
	}
	return strings.Join(append(parts, s), " ")
}

// privateText is the .private file in format v1.3.
func (k *Key) privateText() (string, error) {
	var raw []byte
	switch p := k.Signer.(type) {
	case *ecdsa.PrivateKey:
		b, err := p.Bytes()
		if err != nil {
			return "", err
		}
		raw = b
	case ed25519.PrivateKey:
		raw = p.Seed()
	default:
		return "", errors.New("the key's signer is neither ECDSA nor Ed25519")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Private-key-format: v1.3\nAlgorithm: %d (%s)\nPrivateKey: %s\n", k.DNSKEY.Algorithm,
		dns.AlgorithmToString[k.DNSKEY.Algorithm], base64.StdEncoding.EncodeToString(raw))
	for _, f := range timingFields {
		if v := *f.field(&k.Timing); !v.IsZero() {
			fmt.Fprintf(&b, "%s: %s\n", f.name, FormatStamp(v))
		}
	}
	return b.String(), nil
}

// DS is the key's DS record with a SHA-256 digest, the digest in upper
// case as dnssec-dsfromkey prints it.
func (k *Key) DS() *dns.DS {
	ds := k.DNSKEY.ToDS(dns.SHA256)
	ds.Digest = strings.ToUpper(ds.Digest)
	return ds
}
