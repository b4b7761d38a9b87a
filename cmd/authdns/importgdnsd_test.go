package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportGdnsdExitStatus(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "config"), []byte("options => { nsid = ff00 }\n"), 0o644)
	os.Mkdir(filepath.Join(dir, "zones"), 0o755)
	for _, tt := range []struct {
		args []string
		code int
		out  string // in stdout or stderr
	}{
		{[]string{"import-gdnsd", "--from", dir}, 2, "--from and --to are required"},
		{[]string{"import-gdnsd", "--from", filepath.Join(dir, "nope"), "--to", filepath.Join(out, "o1")}, 1, "not a gdnsd configuration directory"},
		{[]string{"import-gdnsd", "--from", dir, "--to", filepath.Join(out, "o2"), "--listen", "127.0.0.1:5300"}, 1,
			"config:1: option nsid: error: not translated"},
		{[]string{"import-gdnsd", "--from", dir, "--to", filepath.Join(out, "o2"), "--listen", "127.0.0.1:5300"}, 1, "is not empty"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String()+stderr.String(), tt.out) {
			t.Errorf("%v: exit %d, want %d with %q\n%s%s", tt.args, code, tt.code, tt.out, stdout.String(), stderr.String())
		}
	}
}
