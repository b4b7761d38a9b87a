// Command lvsd is the LVS director daemon: PyBal's job (pybal.conf, pool
// files, health monitors, depool threshold) programming IPVS by
// reconciliation and announcing service IPs over BGP.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/geotraffic/geotraffic/internal/version"
	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/daemon"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/status"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const defaultConfig = "/etc/pybal/pybal.conf"

const usage = `lvsd: LVS director daemon (PyBal-compatible)

Usage:
  lvsd [--config FILE] [--dry-run] [--no-bgp] [--debug]   run the daemon
  lvsd status [--config FILE] [--url URL]                 show IPVS joined with pool state
  lvsd check [--config FILE]                              validate pybal.conf and exit
  lvsd --version
  lvsd --help | lvsd status --help | lvsd check --help

The daemon reads pybal.conf (PyBal's format) and its pool sources, runs the
health monitors, and reconciles IPVS with the pooled servers. SIGHUP reloads
pybal.conf (a bad file is refused whole); SIGTERM withdraws BGP routes and
stops, leaving IPVS as it is so a restart adopts it.

Daemon flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "status":
			return runStatus(args[1:], stdout, stderr)
		case "check":
			return runCheck(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("lvsd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", defaultConfig, "pybal.conf `file`")
	fs.StringVar(cfgPath, "c", defaultConfig, "short for --config (PyBal's -c)")
	dryRun := fs.Bool("dry-run", false, "use an in-memory IPVS that logs each operation in ipvsadm syntax; monitors (and BGP, unless --no-bgp) run for real")
	fs.BoolVar(dryRun, "n", false, "short for --dry-run (PyBal's -n)")
	noBGP := fs.Bool("no-bgp", false, "do not start BGP even if pybal.conf enables it")
	debug := fs.Bool("debug", false, "log at debug level (every monitor result)")
	fs.BoolVar(debug, "d", false, "short for --debug (PyBal's -d)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lvsd: unexpected argument %q (see --help)\n", fs.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "lvsd", version.Version)
		return 0
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// The configuration first: a bad file must be reported as such, also
	// on a host where IPVS cannot be opened.
	loaded, err := daemon.Load(*cfgPath)
	if err != nil {
		log.Error("cannot start: bad configuration", "err", err)
		return 1
	}
	var dir ipvs.Director
	if *dryRun {
		dir = ipvs.NewDryRun(log)
	} else {
		if dir, err = ipvs.NewKernel(log); err != nil {
			log.Error("cannot open IPVS (use --dry-run to test without it)", "err", err)
			return 1
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts := daemon.Options{ConfigPath: *cfgPath, Loaded: loaded, Log: log, Registry: reg, Director: dir}
	if !*noBGP {
		opts.NewAnnouncer = func(cfg bgp.Config, log *slog.Logger, reg prometheus.Registerer) (bgp.Announcer, error) {
			return bgp.New(cfg, log, reg)
		}
	}
	// Signals first: a SIGHUP before Notify would kill the process.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	d, err := daemon.New(opts)
	if err != nil {
		dir.Close()
		log.Error("cannot start", "err", err)
		return 1
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reloading configuration", "config", *cfgPath)
				_ = d.Reload() // errors are logged; the running config stays
			}
		}
	}()
	if err := d.Run(ctx); err != nil {
		log.Error("lvsd", "err", err)
		return 1
	}
	return 0
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lvsd check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", defaultConfig, "pybal.conf `file`")
	fs.StringVar(cfgPath, "c", defaultConfig, "short for --config")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: lvsd check [--config FILE]\n\n"+
			"Validates pybal.conf completely (monitors included) and exits: status 0 when it\n"+
			"loads, with each warning (unknown keys, unused settings) on stderr; the etcd\n"+
			"client's files ([global] etcd-cacert, etcd-cert, etcd-key, etcd-password-file) are read;\n"+
			"status 1 with the file:line: key: reason of every error, one a line, sorted by line.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	l, err := daemon.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, w := range l.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "%s: OK, %d services\n", *cfgPath, len(l.Config.Services))
	return 0
}

func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lvsd status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", defaultConfig, "pybal.conf `file` (services and instrumentation address)")
	fs.StringVar(cfgPath, "c", defaultConfig, "short for --config")
	url := fs.String("url", "", "instrumentation API base `URL` of the running lvsd (default: from pybal.conf)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: lvsd status [--config FILE] [--url URL]\n\n"+
			"Prints IPVS's table (ipvsadm -Ln style, with ActiveConn and InActConn) joined with\n"+
			"each real server's enabled/up/pooled state from the running lvsd, and flags pooled\n"+
			"servers under lc/wlc whose active connections are far below their peers' while their\n"+
			"inactive ones are normal (refusing connections, or the VIP not bound).\n"+
			"With instrumentation off (PyBal's default) and no --url, or when lvsd does not answer,\n"+
			"the table is read from the kernel and the output says the daemon's view is unavailable.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = status.Run(ctx, stdout, status.Options{Config: cfg, URL: *url, OpenKernel: func() (status.Kernel, error) {
		return ipvs.NewKernel(nil)
	}})
	if err != nil {
		fmt.Fprintln(stderr, "lvsd status:", err)
		return 1
	}
	return 0
}
