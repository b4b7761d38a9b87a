package authdns

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	"github.com/geotraffic/geotraffic/internal/tlsfiles"
)

// loadControlCert reads control_tls_cert and control_tls_key (nil, nil
// without TLS, or without control_tcp: authdns-update validates with a
// server's authdns.yaml minus its server-local listener). It runs on
// start, on every reload and in checkconf, so a renewed certificate is
// picked up by a reload and a bad one is refused before anything changes.
func loadControlCert(cfg *Config) (*tls.Certificate, error) {
	if !cfg.ControlTLS() || cfg.ControlTCP == "" {
		return nil, nil
	}
	cert, err := tlsfiles.KeyPair(cfg.ControlTLSCert, cfg.ControlTLSKey)
	if err != nil {
		return nil, fmt.Errorf("control_tls_cert, control_tls_key: %w", err)
	}
	return cert, nil
}

// loadClientCAs reads control_client_ca (nil, nil without it, or without
// control_tcp), on start, reload and checkconf like the certificate.
func loadClientCAs(cfg *Config) (*x509.CertPool, error) {
	if cfg.ControlClientCA == "" || cfg.ControlTCP == "" {
		return nil, nil
	}
	pool, _, err := tlsfiles.ReadCAs(cfg.ControlClientCA)
	if err != nil {
		return nil, fmt.Errorf("control_client_ca: %w", err)
	}
	return pool, nil
}

// serverTLSConfig serves the certificate cert holds at each handshake,
// TLS 1.2 or later only. While cas holds client CAs, a client may present
// a certificate; one they do not verify fails the handshake.
func serverTLSConfig(cert *atomic.Pointer[tls.Certificate], cas *atomic.Pointer[x509.CertPool]) *tls.Config {
	base := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if c := cert.Load(); c != nil {
				return c, nil
			}
			return nil, errors.New("control: no TLS certificate loaded")
		},
	}
	withClients := base.Clone()
	withClients.ClientAuth = tls.VerifyClientCertIfGiven
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		pool := cas.Load()
		if pool == nil {
			return nil, nil // base: no client certificates asked for
		}
		c := withClients.Clone()
		c.ClientCAs = pool
		return c, nil
	}
	return base
}

// TLSScheme prefixes a TCP control address that is reached over TLS:
// "https://host:port".
const TLSScheme = "https://"

// ClientTLS is how a client reaches a TLS control listener.
type ClientTLS struct {
	// CAFile is a PEM file of the CAs that may sign the server's
	// certificate; "" = the system's roots.
	CAFile string
	// ServerName is the name (or IP) the certificate must be valid for;
	// "" = the host of the control address.
	ServerName string
	// CertFile and KeyFile (PEM, both or neither) are a client
	// certificate for servers with control_client_ca: it authenticates
	// the client instead of the token.
	CertFile, KeyFile string
}

// ClientOption adjusts a Client made by NewClient.
type ClientOption func(*clientOptions)

type clientOptions struct {
	tls *tls.Config // nil: TLS only for an https:// address, with system roots
}

// WithTLS makes NewClient use TLS for a TCP control address, given as
// host:port or https://host:port, verified against t. It fails if the CA
// file cannot be read or holds no certificate.
func WithTLS(t ClientTLS) (ClientOption, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pool, _, err := tlsfiles.ReadCAs(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		conf.RootCAs = pool
	}
	cert, err := tlsfiles.KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	return func(o *clientOptions) { o.tls = conf }, nil
}

// tlsDialer dials addr ("host:port", whatever the request URL names) and
// completes a TLS handshake verified by conf (nil: system roots, server
// name from addr).
func tlsDialer(addr string, conf *tls.Config) func(ctx context.Context, _, _ string) (net.Conn, error) {
	if conf == nil {
		conf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	conf = conf.Clone()
	if conf.ServerName == "" {
		host, _, _ := net.SplitHostPort(addr)
		conf.ServerName = host
	}
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		d := tls.Dialer{Config: conf}
		return d.DialContext(ctx, "tcp", addr)
	}
}

// tlsTarget returns the host:port of a control address reached over TLS:
// an https:// address, or a host:port one when TLS options were given.
func tlsTarget(addr string, o clientOptions) (string, bool) {
	if rest, ok := strings.CutPrefix(addr, TLSScheme); ok {
		return strings.TrimSuffix(rest, "/"), true
	}
	return addr, o.tls != nil && IsTCPAddr(addr)
}
