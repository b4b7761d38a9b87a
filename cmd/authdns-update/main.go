// Command authdns-update rolls a DNS data directory (zones/, geoip.yaml,
// admin_state, nets files) out to every authdns server or to none: it
// validates locally, shows the diff against each server, stages the bundle
// on all of them, and commits only if every one staged it.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/geotraffic/geotraffic/authdns"
	"github.com/geotraffic/geotraffic/authdns/rollout"
	"github.com/geotraffic/geotraffic/internal/version"
)

const usage = `authdns-update: roll a DNS data directory out to every authdns server, or to none.

Usage:
  authdns-update --data DIR (--servers A,B,... | --servers-file F) [--yes] [--diff-only]

A server is its control address: a Unix socket path, or host:port of its
control_tcp listener (then --token-file is needed, or a client certificate
with --cert-file and --key-file); https://host:port, or host:port with
--ca-file, --tls-server-name or --cert-file, is reached over TLS. The token
is never sent over plain TCP to an address that is not loopback. Steps: validate DIR
locally (as authdns checkconf) and refuse a git work tree with uncommitted or
untracked changes; show what changes on each server; ask for confirmation
(unless --yes; --diff-only stops here); stage on every server (each validates
the bundle in full); commit on every server only if all staged, else abort
everywhere. Exit status: 0 done (or nothing to do), 1 nothing changed
(refused, failed validation or staging, not confirmed), 2 usage,
3 PARTIAL: some servers committed and some did not (a retry command is printed).

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("authdns-update", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "the data directory to roll out")
	servers := fs.String("servers", "", "comma-separated control addresses")
	serversFile := fs.String("servers-file", "", "file with one control address per line (# comments)")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	diffOnly := fs.Bool("diff-only", false, "show what would change and stop")
	config := fs.String("config", "", "an authdns.yaml whose server-local settings (geoip_db_dir) the local validation uses")
	geoipDBDir := fs.String("geoip-db-dir", "", "where relative geoip2_db paths resolve for the local validation (default: DIR)")
	tokenFile := fs.String("token-file", "", "bearer token for TCP control addresses")
	caFile := fs.String("ca-file", "", "PEM CAs that sign the servers' control TLS certificates (turns TLS on for host:port addresses; default: the system's roots, for https:// addresses)")
	tlsName := fs.String("tls-server-name", "", "name the servers' control certificates must be valid for (turns TLS on; default: each address's host)")
	certFile := fs.String("cert-file", "", "client certificate (PEM) for servers with control_client_ca, in place of --token-file (turns TLS on)")
	keyFile := fs.String("key-file", "", "the client certificate's key (PEM)")
	lockFile := fs.String("lock", rollout.DefaultLockFile(), "lock file preventing concurrent rollouts from this host (servers refuse a rollout whose diff is stale, whatever host it comes from)")
	timeout := fs.Duration("timeout", 10*time.Second, "time-out for connecting and for status and abort calls")
	stageTimeout := fs.Duration("stage-timeout", 120*time.Second, "time-out for the stage phase")
	commitTimeout := fs.Duration("commit-timeout", 60*time.Second, "time-out for the commit phase")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return rollout.ExitUsage
	}
	if *showVersion {
		fmt.Fprintln(stdout, "authdns-update", version.Version)
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "authdns-update: unexpected argument %q\n", fs.Arg(0))
		return rollout.ExitUsage
	}
	list, err := serverList(*servers, *serversFile)
	if err != nil {
		fmt.Fprintln(stderr, "authdns-update:", err)
		return rollout.ExitUsage
	}
	token := ""
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintln(stderr, "authdns-update:", err)
			return rollout.ExitUsage
		}
		token = strings.TrimSpace(string(b))
	}
	for _, d := range []*time.Duration{timeout, stageTimeout, commitTimeout} {
		if *d <= 0 {
			fmt.Fprintln(stderr, "authdns-update: time-outs must be positive")
			return rollout.ExitUsage
		}
	}
	// A signal between the phases cancels the calls in flight; Run then
	// reports and aborts what it can.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return rollout.Run(ctx, rollout.Options{
		Data: *data, Servers: list, Config: *config, GeoIPDBDir: *geoipDBDir, Token: token,
		TLS: authdns.ClientTLS{CAFile: *caFile, ServerName: *tlsName, CertFile: *certFile, KeyFile: *keyFile},
		Yes: *yes, DiffOnly: *diffOnly, LockFile: *lockFile, Args: args,
		Timeout: *timeout, StageTimeout: *stageTimeout, CommitTimeout: *commitTimeout,
		Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
}

func serverList(servers, file string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(servers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, s := range out {
		if seen[s] {
			return nil, fmt.Errorf("server %s is listed twice", s)
		}
		seen[s] = true
	}
	if len(out) == 0 {
		return nil, errors.New("no servers: give --servers or --servers-file")
	}
	return out, nil
}
