package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lvsd check accepts a service with an etcd:// pool (exit 0) and prints one
// warning line for it, naming file, line and service.
func TestCheckUnsupportedPoolSource(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "pybal.conf")
	err := os.WriteFile(conf, []byte("[global]\n\n[etcd_80]\nprotocol = tcp\nip = 10.2.2.2\nport = 80\nscheduler = rr\n"+
		"config = etcd://conf1001/conftool/v1/pools/etcd\n\n[text_80]\nprotocol = tcp\nip = 10.2.2.1\nport = 80\nscheduler = rr\nconfig = file:///x\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if code := run([]string{"check", "--config", conf}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	want := "warning: " + conf + ":8: config: [etcd_80] pool source etcd://conf1001/conftool/v1/pools/etcd not supported yet"
	if lines := strings.Split(strings.TrimSpace(errOut.String()), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
		t.Errorf("stderr = %q, want one line starting %q", errOut.String(), want)
	}
	if !strings.Contains(out.String(), "OK, 2 services") {
		t.Errorf("stdout = %q", out.String())
	}
}

// --help of lvsd and of each command lists the commands and flags, exit 0.
func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{
			"lvsd [--config FILE] [--dry-run] [--no-bgp] [--debug]", "lvsd status [--config FILE] [--url URL]",
			"lvsd check [--config FILE]", "lvsd --version", "lvsd --help",
			"-config file", "-c string", "-dry-run", "-n\t", "-no-bgp", "-debug", "-d\t", "-version"}},
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
			if !strings.Contains(errOut.String(), w) {
				t.Errorf("%v: help lacks %q:\n%s", tc.args, w, errOut.String())
			}
		}
	}
	var out, errOut strings.Builder
	if code := run([]string{"--bogus"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "flag provided but not defined: -bogus") {
		t.Errorf("unknown flag: exit %d\n%s", code, errOut.String())
	}
}
