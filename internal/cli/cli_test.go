package cli

import (
	"bytes"
	"errors"
	"flag"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func newSet() (*flag.FlagSet, *string, *bool) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	return fs, fs.String("config", "/etc/t.yaml", "configuration `file`"), fs.Bool("yes", false, "do not ask")
}

func TestParseFlagsAnywhere(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		cfg  string
		yes  bool
	}{
		{[]string{"a", "--config", "x", "b"}, []string{"a", "b"}, "x", false},
		{[]string{"--yes", "a", "b", "-config=y"}, []string{"a", "b"}, "y", true},
		{[]string{"a", "--", "--yes", "-c"}, []string{"a", "--yes", "-c"}, "/etc/t.yaml", false},
		{nil, nil, "/etc/t.yaml", false},
	} {
		fs, cfg, yes := newSet()
		pos, err := Parse(fs, tc.args)
		if err != nil || !reflect.DeepEqual(pos, tc.pos) || *cfg != tc.cfg || *yes != tc.yes {
			t.Errorf("%q: %q %v config=%s yes=%v", tc.args, pos, err, *cfg, *yes)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, h := range []string{"-h", "--help", "-help"} {
		fs, _, _ := newSet()
		if _, err := Parse(fs, []string{"a", h}); !errors.Is(err, ErrHelp) {
			t.Errorf("%s: %v", h, err)
		}
	}
	fs, _, _ := newSet()
	_, err := Parse(fs, []string{"a", "--nope"})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "-nope") {
		t.Errorf("unknown flag: %v", err)
	}
	var b bytes.Buffer
	if code := Fail(&b, "t sub", err); code != ExitUsage || b.String() != "t sub: flag provided but not defined: -nope\nRun 't sub --help' for usage.\n" {
		t.Errorf("Fail: %d %q", code, b.String())
	}
}

func TestArgs(t *testing.T) {
	if err := Args([]string{"a"}, 2, 2, "MAP ADDRESS"); err == nil || err.Error() != "missing argument: want MAP ADDRESS" {
		t.Errorf("missing: %v", err)
	}
	if err := Args([]string{"a", "b", "c"}, 2, 2, "MAP ADDRESS"); err == nil || err.Error() != `unexpected argument "c"` {
		t.Errorf("extra: %v", err)
	}
	if err := Args([]string{"a", "b", "c"}, 1, -1, ""); err != nil {
		t.Errorf("no limit: %v", err)
	}
}

func page() *Page {
	fs, _, _ := newSet()
	fs.String("o", "", "short `out`put")
	return &Page{
		Name: "t", Summary: "a test command", Synopsis: []string{"t [--config FILE] ARG", "t sub"},
		Text:     "Reads the file.\n\nList:\n  - one\n  - two\n.starts with a dot",
		Flags:    fs,
		Commands: []Page{{Name: "t sub", Synopsis: []string{"t sub"}, Text: "does sub things"}},
		Exit:     []Item{{"0", "ok"}, {"2", "usage"}},
		Files:    []Item{{"/etc/t.yaml", "the configuration"}},
		Examples: []Item{{"t --config x a", "run it"}},
		SeeAlso:  []string{"authdns(1)"},
	}
}

func TestHelp(t *testing.T) {
	var b bytes.Buffer
	page().WriteHelp(&b)
	for _, want := range []string{"t: a test command\n", "Usage:\n  t [--config FILE] ARG\n", "Commands:\n  t sub\n        does sub things\n",
		"  --config file\n        configuration file (default /etc/t.yaml)\n", "  --yes\n        do not ask\n", "  -o out\n", "Exit status:\n  0    ok\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, b.String())
		}
	}
}

func TestManRendersWithGroff(t *testing.T) {
	var b bytes.Buffer
	page().WriteMan(&b)
	man := b.String()
	for _, want := range []string{".TH T 1 ", ".SH NAME\nt \\- a test command\n", ".BI \\-\\-config \" file\"\n", "\\&.starts", ".SH EXIT STATUS", ".BR authdns (1)"} {
		if !strings.Contains(man, want) {
			t.Errorf("man lacks %q:\n%s", want, man)
		}
	}
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff not installed; the man page's source is checked above")
	}
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = strings.NewReader(man)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff: %v\n%s", err, out)
	}
}

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		args           []string
		code           int
		ok             bool
		stdout, stderr string
	}{
		{args: []string{"--config", "x", "--yes"}, ok: true},
		{args: []string{"--help"}, code: ExitOK, stdout: "a test command"},
		{args: []string{"extra"}, code: ExitUsage, stderr: "t: unexpected argument \"extra\"\nRun 't --help' for usage.\n"},
		{args: []string{"--nope"}, code: ExitUsage, stderr: "Run 't --help' for usage."},
	} {
		fs, _, _ := newSet()
		var out, errb strings.Builder
		code, ok := Command(fs, tc.args, page, &out, &errb)
		if code != tc.code || ok != tc.ok || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) ||
			(tc.stdout == "" && out.Len() > 0) || (tc.stderr == "" && errb.Len() > 0) {
			t.Errorf("%q: code %d ok %v stdout %q stderr %q", tc.args, code, ok, out.String(), errb.String())
		}
	}
}
