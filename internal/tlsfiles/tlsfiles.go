// Package tlsfiles reads the PEM files a TLS configuration names: a CA
// file into a certificate pool, and a certificate with its key. Every
// daemon and tool reads them here, so they accept the same files and
// fail with the same words; callers prefix the setting that named the
// file.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ReadCAs reads a PEM file of CA certificates into a pool. It accepts
// what x509.CertPool.AppendCertsFromPEM accepts: a file with at least one
// certificate, anything else in it skipped (text around the PEM blocks,
// other block types, CERTIFICATE blocks that do not parse), so a bundle
// with comments still loads. A file without a certificate is an error:
// an empty pool would reject every peer, which is never what was meant.
// The file's bytes are returned for callers that fingerprint them to
// notice a rotated CA.
func ReadCAs(path string) (*x509.CertPool, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err // names the path already
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return pool, b, nil
}

// KeyPair loads a certificate (chain) and its private key from PEM files.
// With neither named it returns nil, nil: no certificate is configured.
// One without the other is an error, as is a key that does not match.
func KeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("needs both a certificate and a key file")
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		// Parse errors from crypto/tls do not say which file.
		return nil, fmt.Errorf("certificate %s, key %s: %w", certFile, keyFile, err)
	}
	return &c, nil
}
