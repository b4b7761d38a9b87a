package rollout

import (
	"strings"
	"testing"
)

// The retry command keeps every flag of the original command line and
// replaces only the server list (adding --yes).
func TestRetryCommandKeepsFlags(t *testing.T) {
	bad := []string{"/run/b.sock", "10.0.0.2:5380"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", "dns", "--servers", "a,b,c"},
			"authdns-update --data dns --servers /run/b.sock,10.0.0.2:5380 --yes"},
		{[]string{"--data=dns", "--servers-file", "servers.txt", "--geoip-db-dir", "/var/lib/geoip", "--config", "/etc/authdns/authdns.yaml",
			"--token-file", "/etc/authdns/token", "--lock", "/tmp/my lock", "--timeout", "3s", "-stage-timeout=5m", "--commit-timeout", "2m", "--yes"},
			"authdns-update --data=dns --geoip-db-dir /var/lib/geoip --config /etc/authdns/authdns.yaml --token-file /etc/authdns/token --lock '/tmp/my lock' --timeout 3s -stage-timeout=5m --commit-timeout 2m --yes --servers /run/b.sock,10.0.0.2:5380"},
		{[]string{"--ca-file", "ca.pem", "--servers", "a", "--tls-server-name", "ns", "--cert-file", "op.crt", "--key-file", "op.key", "--data", "dns"},
			"authdns-update --ca-file ca.pem --tls-server-name ns --cert-file op.crt --key-file op.key --data dns --servers /run/b.sock,10.0.0.2:5380 --yes"},
		{[]string{"-servers=a,b", "--servers", "c", "-data", "dns"},
			"authdns-update -data dns --servers /run/b.sock,10.0.0.2:5380 --yes"},
	} {
		if got := retryCommand(tc.args, bad); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", strings.Join(tc.args, " "), got, tc.want)
		}
	}
}
