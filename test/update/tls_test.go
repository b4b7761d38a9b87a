package updatee2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testtls"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// The TCP control listener with TLS, driven by the real `authdns ctl`: the
// CA given with --ca-file verifies it; without it, or over plain HTTP, the
// call fails.
func TestControlTLSWithCtl(t *testing.T) {
	keys := t.TempDir()
	tok := filepath.Join(keys, "token")
	writeFile(t, tok, "e2e-token-0123456789\n")
	os.Chmod(tok, 0o600)
	ca := testtls.NewCA(t, "e2e CA")
	caFile := ca.WriteCA(t, keys, "ca.pem")
	cert, key := ca.WriteServer(t, keys, "control", net.IPv4(127, 0, 0, 1))
	tcp := testutil.FreeAddr(t)
	s := startServer(t, "control_tcp: "+tcp+"\ncontrol_token_file: "+tok+"\ncontrol_tls_cert: "+cert+"\ncontrol_tls_key: "+key+"\n")

	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"https:// with the CA", []string{"--control", "https://" + tcp, "--ca-file", caFile}, 0, `"data_digest"`, ""},
		{"host:port with the CA", []string{"--control", tcp, "--ca-file", caFile}, 0, `"data_digest"`, ""},
		{"https:// without the CA", []string{"--control", "https://" + tcp}, 1, "", "certificate signed by unknown authority"},
		{"plain HTTP to the TLS port", []string{"--control", tcp}, 1, "", "HTTP request to an HTTPS server"},
		{"a name the certificate lacks", []string{"--control", "https://" + tcp, "--ca-file", caFile, "--tls-server-name", "ns9.example.org"}, 1, "", "ns9.example.org"},
		{"an unreadable CA file", []string{"--control", "https://" + tcp, "--ca-file", filepath.Join(keys, "nope.pem")}, 2, "", "nope.pem"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"ctl", "--token-file", tok}, tc.args...)
			out, errOut, code := run(t, "", "authdns", append(args, "status")...)
			if code != tc.code || !strings.Contains(out, tc.inStdout) || !strings.Contains(errOut, tc.inStderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout with %q, stderr with %q", code, tc.code, out, errOut, tc.inStdout, tc.inStderr)
			}
		})
	}
	if _, errOut, code := run(t, "", "authdns", "ctl", "--control", "https://"+tcp, "--ca-file", caFile, "status"); code != 2 || !strings.Contains(errOut, "needs --token-file") {
		t.Errorf("https:// without a token file: exit %d %s", code, errOut)
	}

	// checkconf loads the TLS material as the daemon would.
	writeFile(t, key, "not a key\n")
	_, errOut, code := run(t, "", "authdns", "checkconf", "--config", filepath.Join(s.dir, "authdns.yaml"))
	if code != 1 || !strings.Contains(errOut, "control_tls_cert, control_tls_key: certificate "+cert) {
		t.Errorf("checkconf with a broken key: exit %d\n%s", code, errOut)
	}
}

// authdns-update reaches a TLS control listener named https://host:port,
// verified against the system's roots (here SSL_CERT_FILE, which Go reads
// on Linux in place of the system bundle).
func TestRolloutOverTLS(t *testing.T) {
	keys := t.TempDir()
	tok := filepath.Join(keys, "token")
	writeFile(t, tok, "e2e-token-0123456789\n")
	os.Chmod(tok, 0o600)
	ca := testtls.NewCA(t, "e2e CA")
	caFile := ca.WriteCA(t, keys, "ca.pem")
	cert, key := ca.WriteServer(t, keys, "control", net.IPv4(127, 0, 0, 1))
	tcp := testutil.FreeAddr(t)
	s := startServer(t, "control_tcp: "+tcp+"\ncontrol_token_file: "+tok+"\ncontrol_tls_cert: "+cert+"\ncontrol_tls_key: "+key+"\n")
	src := filepath.Join(t.TempDir(), "data")
	makeData(t, src)
	zone := filepath.Join(src, "zones", "example.org")
	noCerts := t.TempDir() // SSL_CERT_DIR: no system CA may verify the test server
	noSystem := []string{"SSL_CERT_FILE=" + filepath.Join(noCerts, "none.pem"), "SSL_CERT_DIR=" + noCerts}
	cases := []struct {
		name, server string
		flags, env   []string
		ok           bool
	}{
		{"no CA", "https://" + tcp, nil, noSystem, false},
		{"system roots", "https://" + tcp, nil, []string{"SSL_CERT_FILE=" + caFile, "SSL_CERT_DIR=" + noCerts}, true},
		{"--ca-file turns TLS on", tcp, []string{"--ca-file", caFile}, noSystem, true},
		{"--ca-file, wrong name", tcp, []string{"--ca-file", caFile, "--tls-server-name", "other.example"}, noSystem, false},
	}
	for i, c := range cases {
		// Each case rolls out a record of its own, so a success is
		// this case's doing.
		name := fmt.Sprintf("tls-rollout%d", i)
		z, _ := os.ReadFile(zone)
		writeFile(t, zone, string(z)+name+" IN A 192.0.2.77\n")
		args := append([]string{"--data", src, "--servers", c.server, "--token-file", tok,
			"--yes", "--lock", filepath.Join(keys, "lock")}, c.flags...)
		cmd := exec.Command(bin("authdns-update"), args...)
		cmd.Env = append(os.Environ(), c.env...)
		out, err := cmd.CombinedOutput()
		got := s.dig(name+".example.org", "A")
		switch {
		case !c.ok && (err == nil || !strings.Contains(string(out), "certificate") || got != ""):
			t.Errorf("%s: want refused: %v, answer %q\n%s", c.name, err, got, out)
		case c.ok && (err != nil || got != "192.0.2.77"):
			t.Errorf("%s: want rolled out: %v, answer %q\n%s", c.name, err, got, out)
		}
	}
}
