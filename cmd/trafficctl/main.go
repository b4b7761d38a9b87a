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

	"github.com/geotraffic/geotraffic/internal/cli"
	"github.com/geotraffic/geotraffic/internal/version"
)

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1 // a file or etcd could not be read or was rejected, or serving failed
	exitUsage    = 2
	exitFindings = 3 // check found disagreements with GeoDNS
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return cli.Fail(stderr, "trafficctl", cli.Usagef("missing command: routes, explain, what-if, check or serve"))
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "-help", "--help", "help":
		return cli.Help(stdout, page())
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, "trafficctl", version.Version)
		return exitOK
	}
	for _, c := range subcommands() {
		if c.page.Name == "trafficctl "+cmd {
			return runSub(c, rest, stdout, stderr)
		}
	}
	return cli.Fail(stderr, "trafficctl", cli.Usagef("unknown command %q", cmd))
}

func runSub(c subcommand, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(c.page.Name, flag.ContinueOnError)
	run := c.setup(fs)
	pos, err := cli.Parse(fs, args)
	if errors.Is(err, cli.ErrHelp) {
		return cli.Help(stdout, c.subPage())
	}
	if err == nil {
		err = run(pos, stdout, stderr)
	}
	var ue *cli.UsageError
	var fe findingsError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return cli.Fail(stderr, c.page.Name, err)
	case errors.As(err, &fe):
		return exitFindings
	default:
		fmt.Fprintf(stderr, "trafficctl: %v\n", err)
		return exitError
	}
}

// findingsError makes check exit with exitFindings after printing them.
type findingsError struct{ n int }

func (e findingsError) Error() string { return fmt.Sprintf("%d findings", e.n) }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
