package authdnse2e

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testtls"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// With --log-format json every line is one JSON object, and a reload, a
// failed reload (with a multi-line error), an admin_state change and a
// failed TLS handshake on the control listener (net/http's own message)
// are each one line.
func TestJSONLogsOneObjectPerEvent(t *testing.T) {
	keys := t.TempDir()
	tok := filepath.Join(keys, "token")
	os.WriteFile(tok, []byte("json-log-token-0123456789\n"), 0o600)
	cert, key := testtls.NewCA(t, "log CA").WriteServer(t, keys, "control", net.IPv4(127, 0, 0, 1))
	control := testutil.FreeAddr(t)
	s := startServerWith(t, "control_tcp: "+control+"\ncontrol_token_file: "+tok+"\ncontrol_tls_cert: "+cert+"\ncontrol_tls_key: "+key+"\n",
		"", "--log-format", "json")

	// A client that does not trust the server's CA aborts the handshake.
	if c, err := tls.Dial("tcp", control, &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		c.Close()
		t.Fatal("a client without the CA completed the handshake")
	}
	s.WaitLog(0, "TLS handshake error")

	s.sighup()
	zone := filepath.Join(s.dir, "zones", "example.org")
	orig, _ := os.ReadFile(zone)
	os.WriteFile(zone, []byte(string(orig)+"broken IN A 999.1.1.1\n"), 0o644)
	os.WriteFile(filepath.Join(s.dir, "zones", "example.net"), []byte("@ IN A 999.1.1.2\n"), 0o644)
	mark := len(s.Logs())
	s.Signal(syscall.SIGHUP)
	s.WaitLog(mark, `"msg":"reload failed`)
	mark = len(s.Logs())
	testutil.WriteAtomic(t, filepath.Join(s.dir, "admin_state"), "site/esams => DOWN\n")
	s.WaitLog(mark, "admin_state: load complete")

	want := map[string]func(map[string]any) bool{
		"reload complete": func(m map[string]any) bool {
			return m["level"] == "INFO" && m["zones"] == float64(1) && m["config_digest"] != nil
		},
		"reload failed; the previous state keeps serving": func(m map[string]any) bool {
			e, _ := m["err"].(string)
			return m["level"] == "ERROR" && strings.Contains(e, "zones/example.org:") && strings.Contains(e, "\n") && strings.Contains(e, "zones/example.net:")
		},
		"admin_state: state of 'site/esams' forced to DOWN": func(m map[string]any) bool { return m["level"] == "INFO" },
	}
	handshake := func(m map[string]any) bool {
		msg, _ := m["msg"].(string)
		return strings.HasPrefix(msg, "http: TLS handshake error from 127.0.0.1:") && m["level"] == "WARN"
	}
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(s.Logs()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("not one JSON object: %q: %v", line, err)
			continue
		}
		msg, _ := m["msg"].(string)
		if handshake(m) {
			seen["handshake"]++
		}
		if check, ok := want[msg]; ok {
			seen[msg]++
			if !check(m) {
				t.Errorf("%q line lacks its fields: %s", msg, line)
			}
		}
	}
	if seen["handshake"] != 1 {
		t.Errorf("the failed TLS handshake was logged %d times, want once as a WARN object", seen["handshake"])
	}
	for msg := range want {
		if seen[msg] != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", msg, seen[msg], s.Logs())
		}
	}
}
