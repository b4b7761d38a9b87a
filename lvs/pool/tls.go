package pool

import (
	"crypto/tls"
	"crypto/x509"
)

// TLS says how an https:// pool source's server is verified. PyBal did
// not verify it at all, so anyone on the path could serve a pool that
// empties a service or pools their own hosts; lvsd verifies by default,
// and turning that off is an explicit per-service choice.
type TLS struct {
	// RootCAs are the CAs to trust (pybal.conf's pool-ca-file); nil means
	// the system roots.
	RootCAs *x509.CertPool
	// Insecure skips verification (pool-tls-insecure = yes).
	Insecure bool
}

func (t TLS) config() *tls.Config {
	return &tls.Config{RootCAs: t.RootCAs, InsecureSkipVerify: t.Insecure, MinVersion: tls.VersionTLS12}
}
