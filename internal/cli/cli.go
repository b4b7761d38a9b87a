// Package cli is the command-line convention every geotraffic command
// follows: flags before or after the positional arguments, --help on
// stdout with exit status 0, a usage error as one short message and a hint
// on stderr with exit status 2, and a man page rendered from the same Page
// as --help so the two cannot drift apart.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// Exit statuses shared by every command; commands add their own above 2.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// ErrHelp is returned by Parse for -h, -help and --help.
var ErrHelp = flag.ErrHelp

// UsageError is a command line that cannot be run as written.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Parse parses args into fs with flags anywhere among the positional
// arguments, which it returns; after "--" every argument is positional.
// It returns ErrHelp for -h or --help and a *UsageError for an unknown
// flag or a bad value, and prints nothing itself.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, ErrHelp
			}
			return nil, &UsageError{Msg: err.Error()}
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// Fail prints a usage error of command name (such as "lvsd check") and
// where its help is, and returns ExitUsage.
func Fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", name, err, name)
	return ExitUsage
}

// Args checks the number of positional arguments: between min and max
// (max < 0: no limit); want names them for the message.
func Args(pos []string, min, max int, want string) error {
	switch {
	case len(pos) < min && want != "":
		return Usagef("missing argument: want %s", want)
	case len(pos) < min:
		return Usagef("missing argument")
	case max >= 0 && len(pos) > max:
		return Usagef("unexpected argument %q", pos[max])
	}
	return nil
}

// LogLevel parses a --log-level value.
func LogLevel(s string) (slog.Level, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(s)); err != nil {
		return lv, Usagef("--log-level %q: want debug, info, warn or error", s)
	}
	return lv, nil
}

// Command parses args for a command that takes no positional arguments:
// --help prints page() on stdout, a usage error goes to stderr. ok is
// false when the command is done and must exit with code.
func Command(fs *flag.FlagSet, args []string, page func() *Page, stdout, stderr io.Writer) (code int, ok bool) {
	pos, err := Parse(fs, args)
	if errors.Is(err, ErrHelp) {
		return Help(stdout, page()), false
	}
	if err == nil {
		err = Args(pos, 0, 0, "")
	}
	if err != nil {
		return Fail(stderr, page().Name, err), false
	}
	return ExitOK, true
}
