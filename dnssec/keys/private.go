package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// readPrivate reads a .private file (format v1.x) for the public key pub:
// the private key, checked to match pub, and the timing lines.
func readPrivate(file string, pub *dns.DNSKEY) (crypto.Signer, Timing, error) {
	var timing Timing
	if err := checkMode(file); err != nil {
		return nil, timing, err
	}
	b, err := readFile(file)
	if err != nil {
		return nil, timing, err
	}
	return parsePrivate(file, b, pub)
}

// parsePrivate parses the text b of the .private file named file.
func parsePrivate(file string, b []byte, pub *dns.DNSKEY) (crypto.Signer, Timing, error) {
	var p privateFile
	for i, l := range strings.Split(unixLines(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, ";") {
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, p.timing, fmt.Errorf("%s:%d: want Name: value", file, i+1)
		}
		if err := p.field(name, strings.TrimSpace(value), pub); err != nil {
			return nil, p.timing, fmt.Errorf("%s:%d: %w", file, i+1, err)
		}
	}
	switch {
	case !p.format:
		return nil, p.timing, fmt.Errorf("%s: no Private-key-format line: not a BIND private key file", file)
	case !p.algorithm:
		return nil, p.timing, fmt.Errorf("%s: no Algorithm line", file)
	case p.signer == nil:
		return nil, p.timing, fmt.Errorf("%s: no PrivateKey line (keys held in an HSM are not supported)", file)
	}
	return p.signer, p.timing, nil
}

// privateFile is what a .private file has said so far.
type privateFile struct {
	signer            crypto.Signer
	timing            Timing
	format, algorithm bool
}

// field reads one "Name: value" line; names it does not know (such as
// Successor, or BIND's state times) are skipped.
func (p *privateFile) field(name, value string, pub *dns.DNSKEY) error {
	var err error
	switch {
	case strings.EqualFold(name, "Private-key-format"):
		if !strings.HasPrefix(value, "v1.") {
			return fmt.Errorf("private key format %q: want v1.2 or v1.3", value)
		}
		p.format = true
	case strings.EqualFold(name, "Algorithm"):
		n, _, _ := strings.Cut(value, " ")
		if a, err := strconv.ParseUint(n, 10, 8); err != nil || uint8(a) != pub.Algorithm {
			return fmt.Errorf("algorithm %q: the public key's is %d", value, pub.Algorithm)
		}
		p.algorithm = true
	case strings.EqualFold(name, "PrivateKey"):
		p.signer, err = privateKey(pub, value)
	default:
		if f := timingField(&p.timing, name); f != nil {
			if *f, err = parseStamp(value); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return err
}

// checkMode refuses a private key file that others can read or the group
// can write.
func checkMode(file string) error {
	fi, err := os.Stat(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: missing: the private key is needed to sign online", file)
		}
		return err
	}
	if m := fi.Mode().Perm(); m&0o027 != 0 {
		return fmt.Errorf("%s: mode %04o: others may read or the group write the private key; chmod 0600 (or 0640)", file, m)
	}
	return nil
}

// privateKey decodes the PrivateKey field of alg 13 (the P-256 scalar) or
// 15 (the Ed25519 seed) and checks it against the public key.
func privateKey(pub *dns.DNSKEY, value string) (crypto.Signer, error) {
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("PrivateKey: not base64: %w", err)
	}
	want, err := base64.StdEncoding.DecodeString(pub.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("the public key is not base64: %w", err)
	}
	var signer crypto.Signer
	var got []byte
	switch pub.Algorithm {
	case dns.ECDSAP256SHA256:
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
		if err != nil {
			return nil, fmt.Errorf("PrivateKey: not a P-256 private key: %w", err)
		}
		b, err := k.PublicKey.Bytes()
		if err != nil {
			return nil, fmt.Errorf("PrivateKey: %w", err)
		}
		signer, got = k, b[1:] // the DNSKEY holds X||Y without the 0x04 prefix
	case dns.ED25519:
		if len(raw) != ed25519.SeedSize {
			return nil, fmt.Errorf("PrivateKey: %d bytes: an Ed25519 seed is %d", len(raw), ed25519.SeedSize)
		}
		k := ed25519.NewKeyFromSeed(raw)
		signer, got = k, k.Public().(ed25519.PublicKey)
	default:
		return nil, checkAlgorithm(pub.Algorithm)
	}
	if !bytes.Equal(got, want) {
		return nil, errors.New("PrivateKey does not match the public key in the .key file")
	}
	return signer, nil
}
