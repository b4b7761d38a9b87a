// Command authdns is the authoritative DNS server: RFC 1035 zones plus
// GeoIP-driven DYNA/DYNC records, steered by the admin_state file.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/geotraffic/geotraffic/authdns"
	"github.com/geotraffic/geotraffic/geo"
	"github.com/geotraffic/geotraffic/health"
	"github.com/geotraffic/geotraffic/internal/cli"
	"github.com/geotraffic/geotraffic/internal/sdnotify"
	"github.com/geotraffic/geotraffic/internal/version"
	"github.com/prometheus/client_golang/prometheus"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	fs, o := newFlags()
	rest, err := cli.Parse(fs, args)
	if errors.Is(err, cli.ErrHelp) {
		return cli.Help(stdout, page())
	}
	if err != nil {
		return cli.Fail(stderr, "authdns", err)
	}
	if o.version {
		fmt.Fprintln(stdout, "authdns", version.Version)
		return 0
	}
	level := o.logLevel
	if level == "" {
		// Only the daemon logs its progress: the other commands print results.
		level = "warn"
		if cmd == "serve" {
			level = "info"
		}
	}
	log, err := newLogger(stderr, o.logFormat, level)
	if err != nil {
		return cli.Fail(stderr, "authdns", err)
	}
	name := "authdns " + cmd
	switch cmd {
	case "serve", "checkconf", "states", "import-gdnsd":
		if err := cli.Args(rest, 0, 0, ""); err != nil {
			return cli.Fail(stderr, name, err)
		}
	}
	switch cmd {
	case "serve":
		return serve(o.config, log, stderr)
	case "checkconf":
		return checkconf(o.config, log, stdout, stderr)
	case "states":
		return states(o.config, !o.noEtcd, log, stdout, stderr)
	case "geoip-lookup":
		return geoipLookup(o.config, rest, log, stdout, stderr)
	case "ctl":
		return runCtl(o, rest, stdout, stderr)
	case "import-gdnsd":
		return importGdnsd(o, log, stdout, stderr)
	case "dnssec":
		return runDNSSEC(o, rest, time.Now(), stdout, stderr)
	default:
		return cli.Fail(stderr, "authdns", cli.Usagef("unknown command %q", cmd))
	}
}

func runCtl(o *options, rest []string, stdout, stderr io.Writer) int {
	addr := o.control
	if addr == "" {
		cfg, err := authdns.LoadConfig(o.config)
		if err != nil {
			fmt.Fprintf(stderr, "authdns ctl: no --control, and %v\n", err)
			return 2
		}
		addr = cfg.Control
	}
	var opts []authdns.ClientOption
	if o.caFile != "" || o.tlsName != "" || o.certFile != "" || o.keyFile != "" {
		opt, err := authdns.WithTLS(authdns.ClientTLS{CAFile: o.caFile, ServerName: o.tlsName, CertFile: o.certFile, KeyFile: o.keyFile})
		if err != nil {
			fmt.Fprintln(stderr, "authdns ctl:", err)
			return 2
		}
		opts = append(opts, opt)
	}
	a := ctlAuth{tokenFile: o.tokenFile, clientCert: o.certFile != ""}
	return ctl(addr, a, o.timeout, rest, stdout, stderr, opts...)
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	lv, err := cli.LogLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, cli.Usagef("--log-format must be text or json, not %q", format)
}

func serve(config string, log *slog.Logger, stderr io.Writer) int {
	// Take the signals before anything can announce readiness: a SIGHUP
	// that arrives between "serving" and Notify would otherwise kill us.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	d, err := authdns.New(config, log, prometheus.NewRegistry())
	if err != nil {
		fmt.Fprintf(stderr, "authdns: %v\n", err)
		return 1
	}
	d.OnUDPReaders = procsFor(log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The monitor checks what Start and every reload tell it to: the
	// addresses of resources with service_types.
	monitor := health.New(health.Options{Logger: log, Registerer: d.Registry()})
	d.Health = monitor
	go monitor.Run(ctx)
	if err := d.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "authdns: %v\n", err)
		return 1
	}
	// systemd (Type=notify) learns the daemon listens only now.
	sd := sdnotify.New(os.Getenv)
	notify := func(state string) {
		if err := sd.Notify(state); err != nil {
			log.Warn("cannot notify systemd", "err", err)
		}
	}
	notify(sdnotify.Ready)
	for sig := range sigs {
		if sig == syscall.SIGHUP {
			log.Info("SIGHUP: reloading")
			notify(sdnotify.Reloading)
			_ = d.Reload() // logged; the old state keeps serving
			notify(sdnotify.Ready)
			continue
		}
		log.Info("shutting down", "signal", sig.String())
		notify(sdnotify.Stopping)
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := d.Shutdown(sctx)
		scancel()
		if err != nil {
			log.Warn("shutdown did not finish in time", "err", err)
		}
		return 0
	}
	return 0
}

// procsFor returns the hook that keeps GOMAXPROCS at the runtime's own
// choice plus one P per blocking UDP reader. A reader waiting in recvmmsg
// can hold a P; with as many readers as Ps, TCP, control and metrics
// goroutines waited for sysmon (about 10 ms) under UDP load. A GOMAXPROCS
// set in the environment is the operator's choice and is left alone.
func procsFor(log *slog.Logger) func(int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return nil
	}
	base := runtime.GOMAXPROCS(0)
	return func(readers int) {
		if readers <= 0 {
			return
		}
		if prev := runtime.GOMAXPROCS(base + readers); prev != base+readers {
			log.Info("GOMAXPROCS raised for blocking UDP readers", "gomaxprocs", base+readers, "base", base, "udp_readers", readers)
		}
	}
}

func checkconf(config string, log *slog.Logger, stdout, stderr io.Writer) int {
	cfg, err := authdns.LoadConfig(config)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	st, err := authdns.Check(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	etcd := ""
	if e := cfg.Etcd; e != nil {
		etcd = fmt.Sprintf(", etcd %s %s not contacted", strings.Join(e.Endpoints, ","), e.Prefix)
	}
	for _, u := range st.AdminUnmatched {
		fmt.Fprintf(stderr, "warning: %s matches nothing the geoip configuration knows (no site, map, resource or monitored address); it changes nothing\n", u)
	}
	fmt.Fprintf(stdout, "%s: OK (%d zones, admin_state %d entries%s)\n", config, len(st.Zones.Zones()), st.Admin.Len(), etcd)
	return 0
}

// etcdReadTimeout bounds `authdns states`' one read of etcd: a one-shot
// command must not hang on an etcd that is down.
const etcdReadTimeout = 3 * time.Second

// states prints what the daemon would force: the file, overlaid on etcd's
// objects when the configuration has an etcd: section and withEtcd.
func states(config string, withEtcd bool, log *slog.Logger, stdout, stderr io.Writer) int {
	st, err := authdns.LoadState(config, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	code := 0
	if e := st.Config.Etcd; e != nil && withEtcd {
		ctx, cancel := context.WithTimeout(context.Background(), etcdReadTimeout)
		est, bad, err := authdns.ReadEtcd(ctx, e)
		cancel()
		for _, b := range bad {
			fmt.Fprintf(stderr, "authdns states: etcd: ignoring a value that does not parse: %v\n", b)
		}
		if err != nil {
			fmt.Fprintf(stderr, "authdns states: etcd not read (%v): showing the admin_state file alone; "+
				"a running daemon keeps its last state from etcd (authdns ctl states shows it)\n", err)
			code = 1
		} else {
			st = st.WithEtcd(est)
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(st.States())
	return code
}

func geoipLookup(config string, args []string, log *slog.Logger, stdout, stderr io.Writer) int {
	if err := cli.Args(args, 2, 2, "MAP ADDRESS"); err != nil {
		return cli.Fail(stderr, "authdns geoip-lookup", err)
	}
	addr, err := netip.ParseAddr(args[1])
	if err != nil {
		return cli.Fail(stderr, "authdns geoip-lookup", cli.Usagef("%q is not an IP address", args[1]))
	}
	cfg, err := authdns.LoadConfig(config)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	g, err := authdns.LoadGeo(cfg, log)
	if err != nil || g == nil {
		fmt.Fprintln(stderr, "authdns:", orNoGeo(err))
		return 1
	}
	prefix, dcs, err := g.LookupMap(args[0], addr)
	if err != nil {
		fmt.Fprintln(stderr, "authdns:", err)
		return 1
	}
	fmt.Fprintln(stdout, geo.FormatLookup(args[0], prefix, dcs))
	return 0
}

func orNoGeo(err error) error {
	if err != nil {
		return err
	}
	return errors.New("the configuration has no geoip section")
}
