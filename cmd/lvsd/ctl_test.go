package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// lvsd ctl's usage errors exit 2 without calling lvsd; an absent lvsd is
// an error naming the socket.
func TestCtlUsage(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"depool", "web"}, 2, "lvsd ctl: missing argument: want depool|repool SERVICE HOST"},
		{[]string{"drain", "web", "mw1"}, 2, `lvsd ctl: unknown command "drain": want depool or repool`},
		{[]string{"repool", "web", "mw1", "--force"}, 2, "lvsd ctl: --reason and --force are for depool"},
		{[]string{"depool", "web", "mw1", "extra"}, 2, `lvsd ctl: unexpected argument "extra"`},
		{[]string{"depool", "web", "mw1", "--reason", "x", "--socket", sock}, 1, "lvsd ctl depool: control socket " + sock + ": "},
	}
	for _, tc := range tests {
		var out, errOut strings.Builder
		code := run(append([]string{"ctl"}, tc.args...), &out, &errOut)
		if code != tc.code || !strings.HasPrefix(errOut.String(), tc.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tc.args, code, errOut.String(), tc.code, tc.stderr)
		}
	}
}
