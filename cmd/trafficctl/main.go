// Command trafficctl resolves, explains and serves the inter-cache and
// cache-to-application routes of routing.yaml under the admin_state file
// shared with authdns.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/geotraffic/geotraffic/internal/version"
)

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1 // a file or etcd could not be read or was rejected, or serving failed
	exitUsage    = 2
	exitFindings = 3 // check found disagreements with GeoDNS
)

const usage = `trafficctl: cache routing around DOWN sites.

Usage:
  trafficctl routes  --routing FILE [--admin-state FILE] [ETCD] [--cluster C] [--format table|json]
  trafficctl explain --routing FILE [--admin-state FILE] [ETCD] [--format text|json] CLUSTER SITE [APP]
  trafficctl what-if --routing FILE --down SITE[,SITE] [--admin-state FILE] [ETCD] [--cluster C] [--format table|json]
  trafficctl check   --routing FILE --authdns-config FILE [--admin-state FILE] [ETCD] [--format text|json]
  trafficctl serve   --routing FILE --admin-state FILE [ETCD] [--listen ADDR]
  trafficctl version

ETCD: --etcd URL[,URL] [--etcd-prefix P] [--etcd-cacert FILE] [--etcd-cert FILE
--etcd-key FILE] [--etcd-user USER] [--etcd-timeout D]; the password is
$TRAFFICCTL_ETCD_PASSWORD. With --etcd, etcd's site, route and app-route
objects override routing.yaml and sit under the admin_state file (which wins).

A site is DOWN for routing when the admin_state file (or etcd) says
'site/NAME => DOWN' (geoip/... keys are for GeoDNS and are ignored here).
Run 'trafficctl COMMAND --help' for a command's flags.

Exit status: 0 ok, 1 error (bad or unreadable file, etcd unreachable or its
overrides refused), 2 usage, 3 check found disagreements with GeoDNS.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, "trafficctl", version.Version)
		return exitOK
	case "routes":
		err = cmdRoutes(rest, stdout, stderr)
	case "explain":
		err = cmdExplain(rest, stdout, stderr)
	case "what-if":
		err = cmdWhatIf(rest, stdout, stderr)
	case "check":
		err = cmdCheck(rest, stdout, stderr)
	case "serve":
		err = cmdServe(rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "trafficctl: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	var ue usageError
	var fe findingsError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "trafficctl %s: %v\n", cmd, err)
		return exitUsage
	case errors.As(err, &fe):
		return exitFindings
	default:
		fmt.Fprintf(stderr, "trafficctl: %v\n", err)
		return exitError
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// findingsError makes check exit with exitFindings after printing them.
type findingsError struct{ n int }

func (e findingsError) Error() string { return fmt.Sprintf("%d findings", e.n) }

// newFlags returns a flag set that prints its own help to stderr.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: trafficctl %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags placed before, between or after positional
// arguments, so `explain text ulsfo --routing f` works too.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for range len(args) + 1 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	return pos, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
