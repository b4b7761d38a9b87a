package authdns_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// With --log-format json every line is one JSON object, and a reload, a
// failed reload (with a multi-line error) and an admin_state change are
// each one line.
func TestJSONLogsOneObjectPerEvent(t *testing.T) {
	s := startServerWith(t, "", "", "--log-format", "json")

	s.sighup()
	zone := filepath.Join(s.dir, "zones", "example.org")
	orig, _ := os.ReadFile(zone)
	os.WriteFile(zone, []byte(string(orig)+"broken IN A 999.1.1.1\n"), 0o644)
	os.WriteFile(filepath.Join(s.dir, "zones", "example.net"), []byte("@ IN A 999.1.1.2\n"), 0o644)
	mark := len(s.Logs())
	s.Signal(syscall.SIGHUP)
	s.WaitLog(mark, `"msg":"reload failed`)
	mark = len(s.Logs())
	writeAtomic(t, filepath.Join(s.dir, "admin_state"), "site/esams => DOWN\n")
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
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(s.Logs()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("not one JSON object: %q: %v", line, err)
			continue
		}
		msg, _ := m["msg"].(string)
		if check, ok := want[msg]; ok {
			seen[msg]++
			if !check(m) {
				t.Errorf("%q line lacks its fields: %s", msg, line)
			}
		}
	}
	for msg := range want {
		if seen[msg] != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", msg, seen[msg], s.Logs())
		}
	}
}
