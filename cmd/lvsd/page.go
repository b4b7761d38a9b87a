package main

import (
	"flag"

	"github.com/geotraffic/geotraffic/lvs/config"

	"github.com/geotraffic/geotraffic/internal/cli"
)

const defaultConfig = "/etc/pybal/pybal.conf"

// realServerConfig is the VIP file lvsd-realserver.service applies.
const realServerConfig = "/etc/lvsd/realserver.yaml"

type options struct {
	config, url                   string
	dryRun, noBGP, debug, version bool
}

// newFlags returns the flags of the daemon (cmd ""), of check or of status.
func newFlags(cmd string) (*flag.FlagSet, *options) {
	o := &options{}
	fs := flag.NewFlagSet("lvsd "+cmd, flag.ContinueOnError)
	what := "pybal.conf `file`"
	if cmd == "status" {
		what = "pybal.conf `file` (services and instrumentation address)"
	}
	fs.StringVar(&o.config, "config", defaultConfig, what)
	fs.StringVar(&o.config, "c", defaultConfig, "short for --config (PyBal's -c)")
	switch cmd {
	case "":
		fs.BoolVar(&o.dryRun, "dry-run", false, "use an in-memory IPVS that logs each operation in ipvsadm syntax; monitors (and BGP, unless --no-bgp) run for real")
		fs.BoolVar(&o.dryRun, "n", false, "short for --dry-run (PyBal's -n)")
		fs.BoolVar(&o.noBGP, "no-bgp", false, "do not start BGP even if pybal.conf enables it")
		fs.BoolVar(&o.debug, "debug", false, "log at debug level (every monitor result)")
		fs.BoolVar(&o.debug, "d", false, "short for --debug (PyBal's -d)")
		fs.BoolVar(&o.version, "version", false, "print the version and exit")
	case "status":
		fs.StringVar(&o.url, "url", "", "instrumentation API base `URL` of the running lvsd (default: from pybal.conf)")
	}
	return fs, o
}

func checkPage() *cli.Page {
	fs, _ := newFlags("check")
	return &cli.Page{
		Name: "lvsd check", Synopsis: []string{"lvsd check [--config FILE]"}, Flags: fs,
		Text: `Validates pybal.conf completely (monitors included) and exits: status 0
when it loads, with each warning (unknown keys, unused settings) on
stderr; the etcd client's files ([global] etcd-cacert, etcd-cert,
etcd-key, etcd-password-file) are read; status 1 with the
file:line: key: reason of every error, one a line, sorted by
line.`,
	}
}

func statusPage() *cli.Page {
	fs, _ := newFlags("status")
	return &cli.Page{
		Name: "lvsd status", Synopsis: []string{"lvsd status [--config FILE] [--url URL]"}, Flags: fs,
		Text: `Prints IPVS's table (ipvsadm -Ln style, with ActiveConn and InActConn)
joined with each real server's enabled/up/pooled state from the running
lvsd, and flags pooled servers under lc/wlc whose active connections are
far below their peers' while their inactive ones are normal (refusing
connections, or the VIP not bound). With instrumentation off (PyBal's
default) and no --url, or when lvsd does not answer,
the table is read from the kernel and the output says the daemon's view
is unavailable.`,
	}
}

func page() *cli.Page {
	fs, _ := newFlags("")
	return &cli.Page{
		Name:    "lvsd",
		Summary: "LVS director daemon (PyBal-compatible)",
		Synopsis: []string{
			"lvsd [--config FILE] [--dry-run] [--no-bgp] [--debug]",
			"lvsd status [--config FILE] [--url URL]",
			"lvsd check [--config FILE]",
			"lvsd realserver apply --vips VIP[,VIP...] | --config FILE",
			"lvsd realserver check --vips VIP[,VIP...] [--ports PORT[,PORT...]] | --config FILE [--format json]",
			"lvsd ctl depool SERVICE HOST [--reason TEXT] [--force]",
			"lvsd ctl repool SERVICE HOST",
			"lvsd --version",
			"lvsd --help | lvsd status --help | lvsd check --help | lvsd ctl --help | lvsd realserver apply --help",
		},
		Text: `The daemon reads pybal.conf (PyBal's format) and its pool sources, runs
the health monitors, and reconciles IPVS with the pooled servers. SIGHUP
reloads pybal.conf (a bad file is refused whole); SIGTERM withdraws BGP
routes and stops, leaving IPVS as it is so a restart adopts it. It needs
CAP_NET_ADMIN to program IPVS (none with --dry-run).`,
		Flags:    fs,
		Commands: []cli.Page{*checkPage(), *statusPage(), *ctlPage(), *realServerApplyPage(), *realServerCheckPage()},
		Exit: []cli.Item{
			{Term: "0", Text: "success (the daemon: stopped by a signal)"},
			{Term: "1", Text: "an error: bad configuration, IPVS or the daemon's API unavailable"},
			{Term: "2", Text: "usage error"},
		},
		Files: []cli.Item{
			{Term: defaultConfig, Text: "the default configuration, with its pool files"},
			{Term: config.DefaultControlSocket, Text: "the control socket of lvsd ctl ([global] control-socket)"},
			{Term: config.DefaultManualStateFile, Text: "the manual depools in force ([global] manual-depool-state)"},
			{Term: realServerConfig, Text: "the VIP file of lvsd-realserver.service, on real servers"},
		},
		Examples: []cli.Item{
			{Term: "lvsd check --config /etc/pybal/pybal.conf", Text: "Validate a configuration before a reload."},
			{Term: "lvsd --config pybal.conf --dry-run --no-bgp --debug", Text: "Run without touching IPVS or announcing routes."},
			{Term: "lvsd status", Text: "Show IPVS joined with the daemon's pool state."},
			{Term: "lvsd ctl depool text_443 mw1001.eqiad.wmnet --reason 'disk failing'", Text: "Take a server out in an emergency; lvsd keeps it out until repool."},
			{Term: "lvsd realserver check --vips 192.0.2.20 --ports 80,443", Text: "On a real server: is it ready to receive the DR service 192.0.2.20?"},
		},
		SeeAlso: []string{"ipvsadm(8)", "authdns(1)", "confctl(1)"},
	}
}
