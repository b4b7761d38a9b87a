// Command lvsd is the LVS director daemon: PyBal's job (pybal.conf, pool
// files, health monitors, depool threshold) programming IPVS by
// reconciliation and announcing service IPs over BGP.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/geotraffic/geotraffic/internal/cli"
	"github.com/geotraffic/geotraffic/internal/version"
	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/daemon"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/geotraffic/geotraffic/lvs/status"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

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
		case "realserver":
			return runRealServer(args[1:], stdout, stderr)
		case "ctl":
			return runCtl(args[1:], stdout, stderr)
		}
	}
	fs, o := newFlags("")
	if code, ok := cli.Command(fs, args, page, stdout, stderr); !ok {
		return code
	}
	if o.version {
		fmt.Fprintln(stdout, "lvsd", version.Version)
		return 0
	}
	cfgPath, dryRun, noBGP, debug := &o.config, &o.dryRun, &o.noBGP, &o.debug
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
	fs, o := newFlags("check")
	if code, ok := cli.Command(fs, args, checkPage, stdout, stderr); !ok {
		return code
	}
	cfgPath := &o.config
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
	fs, o := newFlags("status")
	if code, ok := cli.Command(fs, args, statusPage, stdout, stderr); !ok {
		return code
	}
	cfgPath, url := &o.config, &o.url
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
