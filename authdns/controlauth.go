package authdns

import (
	"crypto/subtle"
	"crypto/x509"
	"net/http"
	"strings"
)

// authorized tells whether a TCP control request may be served: it came
// with a client certificate that control_client_ca verifies, or with the
// bearer token.
func (l *listeners) authorized(r *http.Request) bool {
	if l.clientCertOK(r) {
		return true
	}
	tok := l.token.Load()
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && tok != nil && len(*tok) > 0 && subtle.ConstantTimeCompare([]byte(got), *tok) == 1
}

// clientCertOK verifies the client certificate against the CAs configured
// now, not at the handshake: a reload that replaces or removes
// control_client_ca also applies to connections kept alive since.
func (l *listeners) clientCertOK(r *http.Request) bool {
	pool := l.clientCAs.Load()
	if pool == nil || r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return false
	}
	inter := x509.NewCertPool()
	for _, c := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := r.TLS.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil
}
