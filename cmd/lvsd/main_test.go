package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lvsd check accepts etcd:// and etcds:// pools silently, refuses a path
// that is not a conftool node directory with its file:line, and reads the
// etcd client's files ([global] etcd-password-file here).
func TestCheckEtcdPoolSource(t *testing.T) {
	dir := t.TempDir()
	svc := "[etcd_80]\nprotocol = tcp\nip = 10.2.2.2\nport = 80\nscheduler = rr\nconfig = etcd://127.0.0.1:2379/conftool/v1/pools/eqiad/appserver/apache2/\n\n" +
		"[text_80]\nprotocol = tcp\nip = 10.2.2.1\nport = 80\nscheduler = rr\nconfig = file:///x\n"
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, conf string
		code       int
		stdout     string
		stderr     string
	}{
		{"etcd pool", "[global]\n\n" + svc, 0, "OK, 2 services", ""},
		{"with a user and password file", "[global]\netcd-user = lvsd\netcd-password-file = " + pw + "\n\n" + svc, 0, "OK, 2 services", ""},
		{"missing password file", "[global]\netcd-user = lvsd\netcd-password-file = " + pw + ".nope\n\n" + svc, 1, "",
			":3: etcd-password-file: open " + pw + ".nope: no such file or directory"},
		{"not a node directory", "[global]\n\n" + strings.Replace(svc, "/apache2/", "/", 1), 1, "",
			":8: config: pool source etcd://127.0.0.1:2379/conftool/v1/pools/eqiad/appserver/: the path"},
	}
	for _, tc := range tests {
		conf := filepath.Join(dir, "pybal.conf")
		if err := os.WriteFile(conf, []byte(tc.conf), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut strings.Builder
		code := run([]string{"check", "--config", conf}, &out, &errOut)
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || (tc.stderr == "") != (errOut.Len() == 0) ||
			!strings.Contains(errOut.String(), tc.stderr) {
			t.Errorf("%s: exit %d\nstdout %q\nstderr %q", tc.name, code, out.String(), errOut.String())
		}
	}
}

// lvsd check reports every problem, pybal.conf's and its monitors', one a
// line in file order, with status 1.
func TestCheckReportsEveryError(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "pybal.conf")
	text := "[global]\ninstrumentation = perhaps\n\n" +
		"[a]\nprotocol = tcp\nip = 10.2.2.1\nport = 80\nscheduler = fifo\nconfig = file:///x\n\n" +
		"[b]\nprotocol = tcp\nip = 10.2.2.1\nport = 81\nscheduler = rr\nconfig = file:///x\nmonitors = [\"Nope\"]\n" +
		"[c]\nprotocol = tcp\nip = 10.2.2.1\nport = 82\nscheduler = rr\nconfig = file:///x\nmonitors = [\"ProxyFetch\"]\nproxyfetch.timeout = soon\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if code := run([]string{"check", "--config", conf}, &out, &errOut); code != 1 || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	want := []string{conf + ":2: instrumentation: not a boolean", conf + ":8: scheduler: unknown scheduler"}
	if len(lines) != len(want) {
		t.Fatalf("stderr:\n%s\nwant %d lines", errOut.String(), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], w)
		}
	}
	// With pybal.conf fixed, the monitors are checked: every option of
	// every one of them.
	text = strings.Replace(strings.Replace(text, "perhaps", "no", 1), "fifo", "rr", 1)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run([]string{"check", "--config", conf}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d", code)
	}
	lines = strings.Split(strings.TrimSpace(errOut.String()), "\n")
	want = []string{conf + ":17: monitors: unknown monitor \"Nope\"", conf + ":24: proxyfetch.url: required by the proxyfetch monitor",
		conf + ":25: proxyfetch.timeout: not a number of seconds"}
	if len(lines) != len(want) {
		t.Fatalf("stderr:\n%s\nwant %d lines", errOut.String(), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], w)
		}
	}
}

// The example configurations load without a warning (pybal-etcd.conf's
// service reads etcd, which check does not contact).
func TestCheckExamples(t *testing.T) {
	for _, f := range []string{"pybal.conf", "pybal-etcd.conf"} {
		conf := filepath.Join("..", "..", "config", "pybal", f)
		var out, errOut strings.Builder
		if code := run([]string{"check", "--config", conf}, &out, &errOut); code != 0 || errOut.Len() != 0 {
			t.Errorf("%s: exit %d\n%s%s", f, code, out.String(), errOut.String())
		}
	}
}

// --help of lvsd and of each command lists the commands and flags on
// stdout, exit 0.
func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{
			"lvsd [--config FILE] [--dry-run] [--no-bgp] [--debug]", "lvsd status [--config FILE] [--url URL]",
			"lvsd check [--config FILE]", "lvsd --version", "lvsd --help",
			"-config file", "-c string", "-dry-run", "-n\n", "-no-bgp", "-debug", "-d\n", "-version"}},
		{[]string{"-h"}, []string{"lvsd status [--config FILE]", "-dry-run"}},
		{[]string{"status", "--help"}, []string{"Usage: lvsd status [--config FILE] [--url URL]", "-config file", "-url URL",
			"the table is read from the kernel"}},
		{[]string{"check", "--help"}, []string{"Usage: lvsd check [--config FILE]", "-config file"}},
	}
	for _, tc := range tests {
		var out, errOut strings.Builder
		if code := run(tc.args, &out, &errOut); code != 0 {
			t.Errorf("%v: exit %d", tc.args, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: help lacks %q:\n%s", tc.args, w, out.String())
			}
		}
	}
	var out, errOut strings.Builder
	if code := run([]string{"--bogus"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "flag provided but not defined: -bogus") {
		t.Errorf("unknown flag: exit %d\n%s", code, errOut.String())
	}
}
