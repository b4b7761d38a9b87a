package authdns

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testtls"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

func TestTokenInClear(t *testing.T) {
	caFile := testtls.NewCA(t, "CA").WriteCA(t, t.TempDir(), "ca.pem")
	withTLS, err := WithTLS(ClientTLS{CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, addr, token string
		opts              []ClientOption
		refused           bool
	}{
		{"loopback IPv4", "127.0.0.1:5380", "tok", nil, false},
		{"loopback IPv6", "[::1]:5380", "tok", nil, false},
		{"localhost", "localhost:5380", "tok", nil, false},
		{"another address", "192.0.2.53:5380", "tok", nil, true},
		{"the wildcard address", "0.0.0.0:5380", "tok", nil, true},
		{"IPv4-mapped", "[::ffff:192.0.2.53]:5380", "tok", nil, true},
		{"another address over https://", "https://192.0.2.53:5380", "tok", nil, false},
		{"another address with TLS options", "192.0.2.53:5380", "tok", []ClientOption{withTLS}, false},
		{"another address without a token", "192.0.2.53:5380", "", nil, false},
		{"a Unix socket", "/run/authdns/control.sock", "tok", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := TokenInClear(tc.addr, tc.token, tc.opts...)
			if (err != nil) != tc.refused {
				t.Fatalf("err = %v, want refused %v", err, tc.refused)
			}
			if err != nil && !strings.Contains(err.Error(), "https://"+tc.addr) {
				t.Errorf("the refusal does not say what to do: %v", err)
			}
		})
	}
}

// Even a client built without TokenInClear's check never sends the token
// to an address that is not loopback: 0.0.0.0 reaches this host's
// listener on 127.0.0.1, but it is refused before connecting.
func TestClientDialsTokenOnlyToLoopback(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	os.WriteFile(tok, []byte(tlsTestToken+"\n"), 0o600)
	addr := testutil.FreeAddr(t)
	testDaemon(t, "control_tcp: "+addr+"\ncontrol_token_file: "+tok+"\n")
	ctx := context.Background()
	if _, err := NewClient(addr, tlsTestToken, 5*time.Second).Status(ctx); err != nil {
		t.Fatalf("loopback: %v", err)
	}
	port := addr[strings.LastIndex(addr, ":"):]
	_, err := NewClient("0.0.0.0"+port, tlsTestToken, 5*time.Second).Status(ctx)
	if err == nil || !strings.Contains(err.Error(), "refusing to send the control token in clear") {
		t.Fatalf("0.0.0.0: %v", err)
	}
}
