package authdns

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testtls"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// control_client_ca: a client certificate signed by it is let in without
// a token; without one (and without a token) a client gets 401; one from
// another CA fails the handshake. With a token file too, either works. A
// reload that changes the CA file applies to the next request.
func TestControlClientCertificates(t *testing.T) {
	serverCA, clientCA, otherCA := testtls.NewCA(t, "server CA"), testtls.NewCA(t, "client CA"), testtls.NewCA(t, "other CA")
	keys := t.TempDir()
	cert, key := serverCA.WriteServer(t, keys, "control", net.IPv4(127, 0, 0, 1))
	clientCAFile := clientCA.WriteCA(t, keys, "clients.pem")
	tok := filepath.Join(keys, "token")
	os.WriteFile(tok, []byte(tlsTestToken+"\n"), 0o600)
	ops := func(ca *testtls.CA, name string) ClientOption {
		c, k := ca.WriteClient(t, keys, name, name)
		opt, err := WithTLS(ClientTLS{CAFile: serverCA.WriteCA(t, keys, "server.pem"), CertFile: c, KeyFile: k})
		if err != nil {
			t.Fatal(err)
		}
		return opt
	}
	noCert, _ := WithTLS(ClientTLS{CAFile: serverCA.WriteCA(t, keys, "server.pem")})
	good, other := ops(clientCA, "operator"), ops(otherCA, "intruder")

	for _, withToken := range []bool{false, true} {
		name := "certificates only"
		extra := ""
		if withToken {
			name, extra = "and a token", "control_token_file: "+tok+"\n"
		}
		t.Run(name, func(t *testing.T) {
			addr := testutil.FreeAddr(t)
			d, dir := testDaemon(t, "control_tcp: "+addr+"\ncontrol_tls_cert: "+cert+"\ncontrol_tls_key: "+key+
				"\ncontrol_client_ca: "+clientCAFile+"\n"+extra)
			ctx := context.Background()
			for _, tc := range []struct {
				name, token string
				opt         ClientOption
				ok          bool
				errHas      string
			}{
				{"a client certificate", "", good, true, ""},
				{"no certificate, no token", "", noCert, false, "client certificate signed by control_client_ca"},
				{"another CA's certificate", "", other, false, "certificate"},
				{"no certificate, the token", tlsTestToken, noCert, withToken, "bearer token"},
			} {
				_, err := NewClient(addr, tc.token, 5*time.Second, tc.opt).Status(ctx)
				if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), tc.errHas)) {
					t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
				}
			}

			// The CA file now names the other CA: the operator's
			// certificate no longer opens the API, the intruder's does.
			os.WriteFile(filepath.Join(dir, "clients.pem"), otherCA.PEM, 0o644)
			cfg, _ := os.ReadFile(filepath.Join(dir, "authdns.yaml"))
			os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte(strings.ReplaceAll(string(cfg), clientCAFile, "clients.pem")), 0o644)
			if err := d.Reload(); err != nil {
				t.Fatal(err)
			}
			if _, err := NewClient(addr, "", 5*time.Second, good).Status(ctx); err == nil {
				t.Error("a certificate of the replaced CA still opens the API")
			}
			if _, err := NewClient(addr, "", 5*time.Second, other).Status(ctx); err != nil {
				t.Errorf("a certificate of the new CA: %v", err)
			}
		})
	}
}

// A client certificate needs both files, and they must load.
func TestWithTLSClientCertificate(t *testing.T) {
	ca := testtls.NewCA(t, "CA")
	dir := t.TempDir()
	c, k := ca.WriteClient(t, dir, "op", "operator")
	for _, tc := range []struct {
		name      string
		cert, key string
		errHas    string
	}{
		{"both", c, k, ""},
		{"no key", c, "", "both"},
		{"no certificate", "", k, "both"},
		{"a missing key file", c, filepath.Join(dir, "nope.key"), "nope.key"},
	} {
		_, err := WithTLS(ClientTLS{CertFile: tc.cert, KeyFile: tc.key})
		if (err == nil) != (tc.errHas == "") || (err != nil && !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
