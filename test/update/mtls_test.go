package updatee2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testtls"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// Neither authdns ctl nor authdns-update sends the token over plain TCP to
// an address that is not loopback. 0.0.0.0 stands for one: it reaches this
// host's listener on 127.0.0.1, so without the check the call would work.
func TestTokenNeverSentInClear(t *testing.T) {
	keys := t.TempDir()
	tok := filepath.Join(keys, "token")
	writeFile(t, tok, "e2e-token-0123456789\n")
	os.Chmod(tok, 0o600)
	tcp := testutil.FreeAddr(t)
	s := startServer(t, "control_tcp: "+tcp+"\ncontrol_token_file: "+tok+"\n")
	wildcard := "0.0.0.0" + tcp[strings.LastIndex(tcp, ":"):]
	src := filepath.Join(t.TempDir(), "dns")
	makeData(t, src)
	zone := filepath.Join(src, "zones", "example.org")
	orig, _ := os.ReadFile(zone)
	writeFile(t, zone, string(orig)+"clear IN A 192.0.2.88\n")

	for _, tc := range []struct {
		name string
		bin  string
		args []string
	}{
		{"authdns ctl", "authdns", []string{"ctl", "--control", wildcard, "--token-file", tok, "status"}},
		{"authdns-update", "authdns-update", []string{"--data", src, "--servers", wildcard, "--token-file", tok, "--yes", "--lock", filepath.Join(keys, "lock")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.bin, tc.args...)
			if code != 2 || !strings.Contains(errOut, "refusing to send the control token in clear to "+wildcard) ||
				!strings.Contains(errOut, "https://"+wildcard) {
				t.Errorf("exit %d\n%s%s", code, out, errOut)
			}
		})
	}
	if got := s.dig("clear.example.org", "A"); got != "" {
		t.Errorf("rolled out anyway: %q", got)
	}
	// Loopback stays allowed.
	if out, errOut, code := run(t, "", "authdns", "ctl", "--control", tcp, "--token-file", tok, "status"); code != 0 {
		t.Errorf("loopback: exit %d\n%s%s", code, out, errOut)
	}
}

// control_client_ca: authdns ctl and authdns-update authenticate with a
// client certificate and no token; without one, or with one of another CA,
// they are refused.
func TestClientCertificateInsteadOfToken(t *testing.T) {
	keys := t.TempDir()
	serverCA, clientCA, otherCA := testtls.NewCA(t, "server CA"), testtls.NewCA(t, "client CA"), testtls.NewCA(t, "other CA")
	caFile := serverCA.WriteCA(t, keys, "ca.pem")
	cert, key := serverCA.WriteServer(t, keys, "control", net.IPv4(127, 0, 0, 1))
	clients := clientCA.WriteCA(t, keys, "clients.pem")
	opCert, opKey := clientCA.WriteClient(t, keys, "operator", "operator")
	badCert, badKey := otherCA.WriteClient(t, keys, "intruder", "intruder")
	tcp := testutil.FreeAddr(t)
	s := startServer(t, "control_tcp: "+tcp+"\ncontrol_tls_cert: "+cert+"\ncontrol_tls_key: "+key+"\ncontrol_client_ca: "+clients+"\n")

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		errHas string
	}{
		{"the operator's certificate", []string{"--cert-file", opCert, "--key-file", opKey}, 0, ""},
		{"no certificate, no token", nil, 2, "needs --token-file (or a client certificate"},
		{"another CA's certificate", []string{"--cert-file", badCert, "--key-file", badKey}, 1, "certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"ctl", "--control", "https://" + tcp, "--ca-file", caFile}, tc.args...)
			out, errOut, code := run(t, "", "authdns", append(args, "status")...)
			if code != tc.code || !strings.Contains(errOut, tc.errHas) {
				t.Errorf("exit %d (want %d)\n%s%s", code, tc.code, out, errOut)
			}
		})
	}

	src := filepath.Join(t.TempDir(), "dns")
	makeData(t, src)
	zone := filepath.Join(src, "zones", "example.org")
	orig, _ := os.ReadFile(zone)
	writeFile(t, zone, string(orig)+"mtls IN A 192.0.2.89\n")
	out, errOut, code := run(t, "", "authdns-update", "--data", src, "--servers", "https://"+tcp, "--ca-file", caFile,
		"--cert-file", opCert, "--key-file", opKey, "--yes", "--lock", filepath.Join(keys, "lock"))
	if code != 0 || s.dig("mtls.example.org", "A") != "192.0.2.89" {
		t.Errorf("rollout with a client certificate: exit %d\n%s%s", code, out, errOut)
	}
}
