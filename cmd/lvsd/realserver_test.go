package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lvsd realserver refuses bad command lines and bad VIP files before it
// opens netlink: usage errors exit 2 (apply) or 3, Nagios's UNKNOWN
// (check), a bad file names its file:line.
func TestRealServerBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "rs.yaml")
	if err := os.WriteFile(bad, []byte("vips:\n  - 192.0.2.1\n  - nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"realserver"}, 2, "", "missing command: want apply or check"},
		{[]string{"realserver", "apply"}, 2, "", "missing --vips or --config"},
		{[]string{"realserver", "apply", "--vips", "192.0.2.1", "--config", bad}, 2, "", "exclude each other"},
		{[]string{"realserver", "apply", "--vips", "192.0.2.1,x"}, 2, "", `--vips: "x" is not an IP address`},
		{[]string{"realserver", "apply", "--config", bad}, 1, "", bad + `:3: vips: "nope" is not an IP address`},
		{[]string{"realserver", "check", "--config", bad}, 3, "UNKNOWN: " + bad + ":3: vips:", ""},
		{[]string{"realserver", "check", "--vips", "192.0.2.1", "--ports", "http"}, 3, "", `--ports: "http" is not a port`},
		{[]string{"realserver", "check", "--vips", "192.0.2.1", "--format", "xml"}, 3, "", `--format "xml"`},
		{[]string{"realserver", "check", "--bogus"}, 3, "", "flag provided but not defined"},
		{[]string{"realserver", "check", "--help"}, 0, "Nagios-style", ""},
	} {
		var out, errOut strings.Builder
		code := run(tc.args, &out, &errOut)
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.errs) {
			t.Errorf("%q: exit %d\nstdout %q\nstderr %q", tc.args, code, out.String(), errOut.String())
		}
	}
}
