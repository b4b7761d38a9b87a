package authdns

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testtls"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

const tlsTestToken = "0123456789abcdef0123"

// tlsDaemon starts a daemon whose TCP control listener on 127.0.0.1 uses
// a certificate signed by ca; it returns the daemon, its directory and
// the control address.
func tlsDaemon(t *testing.T, ca *testtls.CA) (*Daemon, string, string) {
	t.Helper()
	keys := t.TempDir()
	tok := filepath.Join(keys, "token")
	os.WriteFile(tok, []byte(tlsTestToken+"\n"), 0o600)
	cert, key := ca.WriteServer(t, keys, "control", net.IPv4(127, 0, 0, 1))
	addr := testutil.FreeAddr(t)
	d, dir := testDaemon(t, "control_tcp: "+addr+"\ncontrol_token_file: "+tok+
		"\ncontrol_tls_cert: "+cert+"\ncontrol_tls_key: "+key+"\n")
	return d, dir, addr
}

func TestControlTLS(t *testing.T) {
	ca := testtls.NewCA(t, "test CA")
	d, _, addr := tlsDaemon(t, ca)
	caFile := ca.WriteCA(t, t.TempDir(), "ca.pem")
	ctx := context.Background()

	withCA, err := WithTLS(ClientTLS{CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{TLSScheme + addr, addr} {
		s, err := NewClient(a, tlsTestToken, 5*time.Second, withCA).Status(ctx)
		if err != nil || s.DataDigest != d.State().DataDigest {
			t.Errorf("%s with the CA: %v", a, err)
		}
	}
	// https:// without a CA file verifies against the system's roots,
	// which do not hold the test CA.
	var unknown x509.UnknownAuthorityError
	if _, err := NewClient(TLSScheme+addr, tlsTestToken, 5*time.Second).Status(ctx); !errors.As(err, &unknown) {
		t.Errorf("without the CA: %v", err)
	}
	// Another CA does not verify the server either.
	other, _ := WithTLS(ClientTLS{CAFile: testtls.NewCA(t, "other CA").WriteCA(t, t.TempDir(), "other.pem")})
	if _, err := NewClient(addr, tlsTestToken, 5*time.Second, other).Status(ctx); !errors.As(err, &unknown) {
		t.Errorf("with another CA: %v", err)
	}
	// The right CA but a name the certificate does not hold.
	wrongName, _ := WithTLS(ClientTLS{CAFile: caFile, ServerName: "ns1.example.org"})
	if _, err := NewClient(addr, tlsTestToken, 5*time.Second, wrongName).Status(ctx); err == nil || !strings.Contains(err.Error(), "ns1.example.org") {
		t.Errorf("with a wrong server name: %v", err)
	}
	// Plain HTTP to the TLS port gets no answer from the API.
	if _, err := NewClient(addr, tlsTestToken, 5*time.Second).Status(ctx); err == nil {
		t.Error("plain HTTP to the TLS listener was answered")
	}
	// TLS 1.1 is refused.
	old := &tls.Config{MaxVersion: tls.VersionTLS11, InsecureSkipVerify: true}
	if c, err := tls.Dial("tcp", addr, old); err == nil {
		c.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
	// TLS does not replace the token.
	if _, err := NewClient(addr, "", 5*time.Second, withCA).Status(ctx); err == nil || !strings.Contains(err.Error(), "bearer token") {
		t.Errorf("TLS without the token: %v", err)
	}
}

// A reload rereads the certificate: a renewed one (here from another CA)
// is served to new connections on the same socket.
func TestControlTLSCertificateReload(t *testing.T) {
	ca1, ca2 := testtls.NewCA(t, "CA one"), testtls.NewCA(t, "CA two")
	d, dir, addr := tlsDaemon(t, ca1)
	ctx := context.Background()
	cfgText, _ := os.ReadFile(filepath.Join(dir, "authdns.yaml"))
	ca1Opt, _ := WithTLS(ClientTLS{CAFile: ca1.WriteCA(t, dir, "ca1.pem")})
	ca2Opt, _ := WithTLS(ClientTLS{CAFile: ca2.WriteCA(t, dir, "ca2.pem")})
	if _, err := NewClient(addr, tlsTestToken, 5*time.Second, ca1Opt).Status(ctx); err != nil {
		t.Fatal(err)
	}

	// Renew in place: same file names, certificate from CA two.
	var certFile, keyFile string
	for _, line := range strings.Split(string(cfgText), "\n") {
		if v, ok := strings.CutPrefix(line, "control_tls_cert: "); ok {
			certFile = v
		}
		if v, ok := strings.CutPrefix(line, "control_tls_key: "); ok {
			keyFile = v
		}
	}
	nc, nk := ca2.WriteServer(t, t.TempDir(), "new", net.IPv4(127, 0, 0, 1))
	for src, dst := range map[string]string{nc: certFile, nk: keyFile} {
		b, _ := os.ReadFile(src)
		os.WriteFile(dst, b, 0o600)
	}
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewClient(addr, tlsTestToken, 5*time.Second, ca2Opt).Status(ctx); err != nil {
		t.Errorf("CA two after the reload: %v", err)
	}
	if _, err := NewClient(addr, tlsTestToken, 5*time.Second, ca1Opt).Status(ctx); err == nil {
		t.Error("CA one still verifies the server after the reload")
	}

	// A broken key fails the reload and the renewed certificate stays.
	os.WriteFile(keyFile, []byte("not a key\n"), 0o600)
	if err := d.Reload(); err == nil || !strings.Contains(err.Error(), "control_tls_cert") {
		t.Errorf("reload with a broken key: %v", err)
	}
	if _, err := NewClient(addr, tlsTestToken, 5*time.Second, ca2Opt).Status(ctx); err != nil {
		t.Errorf("after a failed reload: %v", err)
	}
}

// authdns-update's local validation borrows a server's authdns.yaml with
// control_tcp cleared: that server's TLS files need not exist here.
func TestCheckIgnoresTLSWithoutControlTCP(t *testing.T) {
	dir := t.TempDir()
	writeData(t, filepath.Join(dir, "data"), 1, "")
	cfg, err := ParseConfig(filepath.Join(dir, "authdns.yaml"), []byte("listen: [\"127.0.0.1:0\"]\ndata: data\n"+
		"control_tcp: 192.0.2.1:5380\ncontrol_token_file: tok\ncontrol_tls_cert: nope.crt\ncontrol_tls_key: nope.key\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(cfg, quietLog()); err == nil || !strings.Contains(err.Error(), "nope.crt") {
		t.Errorf("with control_tcp, missing TLS files: %v", err)
	}
	cfg.ControlTCP, cfg.ControlTokenFile = "", ""
	if _, err := Check(cfg, quietLog()); err != nil {
		t.Errorf("without control_tcp: %v", err)
	}
}

// A CA file that cannot be read or holds no certificate is refused, with
// the setting that named it: the client's --ca-file, the server's
// control_client_ca.
func TestCAFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing, notPEM := filepath.Join(dir, "missing.pem"), filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, want string }{
		{missing, ": open " + missing + ": "},
		{notPEM, ": " + notPEM + ": no PEM certificate in it"},
	} {
		if _, err := WithTLS(ClientTLS{CAFile: tc.file}); err == nil || !strings.HasPrefix(err.Error(), "CA file"+tc.want) {
			t.Errorf("WithTLS: %v, want %q", err, "CA file"+tc.want)
		}
		cfg := &Config{ControlTCP: "127.0.0.1:5380", ControlClientCA: tc.file}
		if _, err := loadClientCAs(cfg); err == nil || !strings.HasPrefix(err.Error(), "control_client_ca"+tc.want) {
			t.Errorf("loadClientCAs: %v, want %q", err, "control_client_ca"+tc.want)
		}
	}
}
