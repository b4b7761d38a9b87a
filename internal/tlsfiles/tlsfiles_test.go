package tlsfiles

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testtls"
)

func write(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func poolOf(pems ...[]byte) *x509.CertPool {
	p := x509.NewCertPool()
	for _, b := range pems {
		p.AppendCertsFromPEM(b)
	}
	return p
}

func TestReadCAs(t *testing.T) {
	dir := t.TempDir()
	a, b := testtls.NewCA(t, "a"), testtls.NewCA(t, "b")
	_, keyFile := a.WriteClient(t, dir, "leaf", "leaf")
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	// A CERTIFICATE block whose DER is not a certificate.
	broken := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")})
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	for _, tc := range []struct {
		name    string
		content []byte
		want    *x509.CertPool // nil: an error
	}{
		{"one CA", a.PEM, poolOf(a.PEM)},
		{"a bundle of two", join(a.PEM, b.PEM), poolOf(a.PEM, b.PEM)},
		// What AppendCertsFromPEM skips is skipped here too: text around
		// the blocks, other block types, blocks that do not parse.
		{"garbage after a certificate", join(a.PEM, []byte("garbage\x00\xff not PEM\n")), poolOf(a.PEM)},
		{"comments around a certificate", join([]byte("# our CA\n"), a.PEM, []byte("# end\n")), poolOf(a.PEM)},
		{"a key next to a certificate", join(key, a.PEM), poolOf(a.PEM)},
		{"a broken certificate next to a good one", join(broken, b.PEM), poolOf(b.PEM)},
		{"no PEM at all", []byte("hello\n"), nil},
		{"empty", nil, nil},
		{"only a key", key, nil},
		{"only a broken certificate", broken, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, dir, "ca.pem", tc.content)
			pool, got, err := ReadCAs(path)
			if tc.want == nil {
				if want := path + ": no PEM certificate in it"; err == nil || err.Error() != want || pool != nil {
					t.Fatalf("pool %v, err %v; want error %q", pool, err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !pool.Equal(tc.want) {
				t.Error("the pool does not hold the file's certificates")
			}
			if !bytes.Equal(got, tc.content) {
				t.Error("the returned bytes are not the file's")
			}
		})
	}

	missing := filepath.Join(dir, "missing.pem")
	if pool, _, err := ReadCAs(missing); pool != nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("a missing file: pool %v, err %v", pool, err)
	}
}

func TestKeyPair(t *testing.T) {
	dir := t.TempDir()
	ca := testtls.NewCA(t, "ca")
	cert, key := ca.WriteClient(t, dir, "one", "one")
	_, otherKey := ca.WriteClient(t, dir, "two", "two")

	c, err := KeyPair(cert, key)
	if err != nil || c == nil || len(c.Certificate) != 1 || c.PrivateKey == nil {
		t.Fatalf("a good pair: %v, %v", c, err)
	}
	if c, err := KeyPair("", ""); c != nil || err != nil {
		t.Errorf("neither file: %v, %v; want nil, nil", c, err)
	}
	for _, tc := range []struct {
		name, cert, key string
		want            string // how the error starts
	}{
		{"no key file", cert, "", "needs both a certificate and a key file"},
		{"no certificate file", "", key, "needs both a certificate and a key file"},
		{"a missing key file", cert, filepath.Join(dir, "nope.key"), "certificate " + cert + ", key " + filepath.Join(dir, "nope.key") + ": open "},
		{"another certificate's key", cert, otherKey, "certificate " + cert + ", key " + otherKey + ": tls: private key does not match public key"},
		{"the files swapped", key, cert, "certificate " + key + ", key " + cert + ": tls: "},
	} {
		c, err := KeyPair(tc.cert, tc.key)
		if c != nil || err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v, %v; want an error starting %q", tc.name, c, err, tc.want)
		}
	}
}
