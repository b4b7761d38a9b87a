package main

import (
	"flag"
	"time"

	"github.com/geotraffic/geotraffic/internal/cli"
)

type options struct {
	data, servers, serversFile, config, geoipDBDir string
	tokenFile, caFile, tlsName, certFile, keyFile  string
	lockFile                                       string
	yes, diffOnly, version                         bool
	timeout, stageTimeout, commitTimeout           time.Duration
}

func newFlags() (*flag.FlagSet, *options) {
	o := &options{}
	fs := flag.NewFlagSet("authdns-update", flag.ContinueOnError)
	fs.StringVar(&o.data, "data", "", "the data directory to roll out")
	fs.StringVar(&o.servers, "servers", "", "comma-separated control addresses")
	fs.StringVar(&o.serversFile, "servers-file", "", "file with one control address per line (# comments)")
	fs.BoolVar(&o.yes, "yes", false, "do not ask for confirmation")
	fs.BoolVar(&o.diffOnly, "diff-only", false, "show what would change and stop")
	fs.StringVar(&o.config, "config", "", "an authdns.yaml whose server-local settings (geoip_db_dir) the local validation uses")
	fs.StringVar(&o.geoipDBDir, "geoip-db-dir", "", "where relative geoip2_db paths resolve for the local validation (default: DIR)")
	fs.StringVar(&o.tokenFile, "token-file", "", "bearer token for TCP control addresses")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM CAs that sign the servers' control TLS certificates (turns TLS on for host:port addresses; default: the system's roots, for https:// addresses)")
	fs.StringVar(&o.tlsName, "tls-server-name", "", "name the servers' control certificates must be valid for (turns TLS on; default: each address's host)")
	fs.StringVar(&o.certFile, "cert-file", "", "client certificate (PEM) for servers with control_client_ca, in place of --token-file (turns TLS on)")
	fs.StringVar(&o.keyFile, "key-file", "", "the client certificate's key (PEM)")
	fs.StringVar(&o.lockFile, "lock", "", "lock file preventing concurrent rollouts from this host (servers refuse a rollout whose diff is stale, whatever host it comes from) (default /run/lock/authdns-update.lock, or $TMPDIR/authdns-update.lock where /run/lock is not writable)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "time-out for connecting and for status and abort calls")
	fs.DurationVar(&o.stageTimeout, "stage-timeout", 120*time.Second, "time-out for the stage phase")
	fs.DurationVar(&o.commitTimeout, "commit-timeout", 60*time.Second, "time-out for the commit phase")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	return fs, o
}

func page() *cli.Page {
	fs, _ := newFlags()
	return &cli.Page{
		Name:     "authdns-update",
		Summary:  "roll a DNS data directory out to every authdns server, or to none",
		Synopsis: []string{"authdns-update --data DIR (--servers A,B,... | --servers-file F) [--yes] [--diff-only] [FLAGS]"},
		Text: `A server is its control address: a Unix socket path, or host:port of its
control_tcp listener (then --token-file is needed, or a client certificate
with --cert-file and --key-file); https://host:port, or host:port with
--ca-file, --tls-server-name or --cert-file, is reached over TLS. The token
is never sent over plain TCP to an address that is not loopback.

Steps: validate DIR locally (as authdns checkconf) and refuse a git work
tree with uncommitted or untracked changes; show what changes on each
server; ask for confirmation (unless --yes; --diff-only stops here); stage
on every server (each validates the bundle in full); commit on every
server only if all staged, else abort everywhere.`,
		Flags: fs,
		Exit: []cli.Item{
			{Term: "0", Text: "done, or nothing to do"},
			{Term: "1", Text: "nothing changed: refused, failed validation or staging, not confirmed"},
			{Term: "2", Text: "usage error"},
			{Term: "3", Text: "PARTIAL: some servers committed and some did not (a retry command is printed)"},
		},
		Files: []cli.Item{{Term: "/run/lock/authdns-update.lock", Text: "the default --lock"}},
		Examples: []cli.Item{
			{Term: "authdns-update --data /srv/dns --servers /run/authdns/control.sock --diff-only", Text: "Show what a rollout would change on the local server."},
			{Term: "authdns-update --data /srv/dns --servers-file servers --token-file token --ca-file ca.pem", Text: "Roll out to every server listed in a file, over TLS."},
		},
		SeeAlso: []string{"authdns(1)"},
	}
}
