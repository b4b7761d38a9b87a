// Command authdns-update rolls a DNS data directory (zones/, geoip.yaml,
// admin_state, nets files) out to every authdns server or to none: it
// validates locally, shows the diff against each server, stages the bundle
// on all of them, and commits only if every one staged it.
package main

import (
	"bufio"
	"context"
	"errors"
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
	"github.com/geotraffic/geotraffic/internal/cli"
	"github.com/geotraffic/geotraffic/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs, o := newFlags()
	if code, ok := cli.Command(fs, args, page, stdout, stderr); !ok {
		return code
	}
	if o.version {
		fmt.Fprintln(stdout, "authdns-update", version.Version)
		return 0
	}
	if o.lockFile == "" {
		o.lockFile = rollout.DefaultLockFile()
	}
	list, err := serverList(o.servers, o.serversFile)
	if err != nil {
		return cli.Fail(stderr, "authdns-update", err)
	}
	token := ""
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			fmt.Fprintln(stderr, "authdns-update:", err)
			return rollout.ExitUsage
		}
		token = strings.TrimSpace(string(b))
	}
	for _, d := range []time.Duration{o.timeout, o.stageTimeout, o.commitTimeout} {
		if d <= 0 {
			return cli.Fail(stderr, "authdns-update", cli.Usagef("time-outs must be positive"))
		}
	}
	// A signal between the phases cancels the calls in flight; Run then
	// reports and aborts what it can.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return rollout.Run(ctx, rollout.Options{
		Data: o.data, Servers: list, Config: o.config, GeoIPDBDir: o.geoipDBDir, Token: token,
		TLS: authdns.ClientTLS{CAFile: o.caFile, ServerName: o.tlsName, CertFile: o.certFile, KeyFile: o.keyFile},
		Yes: o.yes, DiffOnly: o.diffOnly, LockFile: o.lockFile, Args: args,
		Timeout: o.timeout, StageTimeout: o.stageTimeout, CommitTimeout: o.commitTimeout,
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
