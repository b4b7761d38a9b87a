// Package gdnsddiffe2e is the differential test against the real gdnsd:
// it runs Debian's gdnsd 3.8.1 on a production-shaped config directory
// (testdata/gdnsd) and authdns on what `authdns import-gdnsd` makes of it,
// asks both the same queries under the same admin_states, and reports
// every difference by class. docs/gdnsd-diff.md says how to read it.
package gdnsddiffe2e

import (
	"os"
	"strconv"
	"testing"

	"github.com/geotraffic/geotraffic/test/internal/testbin"
)

var binDir string // where TestMain built authdns

func TestMain(m *testing.M) { testbin.Main(m, &binDir, "authdns") }

// envInt reads a positive integer setting from the environment.
func envInt(t testing.TB, name string, def uint64) uint64 {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || (n == 0 && name != "DIFF_SEED") {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}
