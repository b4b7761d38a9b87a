// Command authdns is the authoritative DNS server: RFC 1035 zones plus
// GeoIP-driven DYNA/DYNC records, steered by the admin_state file.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
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
	"github.com/geotraffic/geotraffic/internal/version"
	"github.com/prometheus/client_golang/prometheus"
)

const usage = `authdns: authoritative DNS server with GeoIP answers (DYNA/DYNC) and admin_state.

Usage:
  authdns [serve] --config FILE [--log-format text|json] [--log-level LEVEL]
        serve DNS, the control API and /metrics; SIGHUP (or ctl reload)
        reloads the configuration, zones, GeoIP databases, nets files and
        admin_state atomically (a failed reload keeps the old state);
        SIGTERM/SIGINT stop
  authdns checkconf --config FILE
        load and validate everything as the daemon would (data directory,
        zones, geoip config and databases, nets files, admin_state, control
        token); print every error as file:line: reason; exit 1 on any error;
        change nothing
  authdns ctl [--control ADDR | --config FILE] [--token-file F]
        [--ca-file F] [--tls-server-name NAME] [--cert-file F --key-file F]
        COMMAND
        call a running daemon's control API; ADDR is the Unix socket path,
        host:port of control_tcp, or https://host:port when control_tcp has
        TLS (default: the control key of --config). TLS is verified against
        --ca-file (default: the system's roots); --ca-file or
        --tls-server-name also turn TLS on for a host:port address. A
        TCP address needs --token-file, or a client certificate
        (--cert-file, --key-file) for a server with control_client_ca;
        the token is never sent in clear to a non-loopback address.
        COMMAND: status | reload | states | stats | data | stage DIR |
                 commit ID | abort ID
  authdns states --config FILE [--no-etcd]
        print the forced and real state of every geoip map/resource/DC and
        site as JSON, each forced one with its source: the admin_state file
        and, with an etcd: section, etcd read once (3 s at most; if etcd
        does not answer, the file's states are printed and the exit status
        is 1; --no-etcd skips etcd)
  authdns geoip-lookup --config FILE MAP ADDRESS
        print MAP => PREFIX/LEN => dc1, dc2, ... for a client address
  authdns --version

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("authdns", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "/etc/authdns/authdns.yaml", "path to authdns.yaml")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	showVersion := fs.Bool("version", false, "print the version and exit")
	control := fs.String("control", "", "ctl: control address (socket path or host:port)")
	tokenFile := fs.String("token-file", "", "ctl: file holding the bearer token for a TCP control address")
	timeout := fs.Duration("timeout", 60*time.Second, "ctl: time-out for the call")
	caFile := fs.String("ca-file", "", "ctl: PEM file of the CAs for a TLS control address (default: the system's roots)")
	tlsName := fs.String("tls-server-name", "", "ctl: name the control server's certificate must hold (default: the address's host)")
	certFile := fs.String("cert-file", "", "ctl: client certificate (PEM) for a control_tcp with control_client_ca, in place of --token-file (turns TLS on)")
	keyFile := fs.String("key-file", "", "ctl: the client certificate's key (PEM)")
	noEtcd := fs.Bool("no-etcd", false, "states: the admin_state file alone, without reading etcd")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "authdns", version.Version)
		return 0
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "authdns:", err)
		return 2
	}
	switch cmd {
	case "serve":
		return serve(*config, log, stderr)
	case "checkconf":
		return checkconf(*config, log, stdout, stderr)
	case "states":
		return states(*config, !*noEtcd, log, stdout, stderr)
	case "geoip-lookup":
		return geoipLookup(*config, rest, log, stdout, stderr)
	case "ctl":
		addr := *control
		if addr == "" {
			cfg, err := authdns.LoadConfig(*config)
			if err != nil {
				fmt.Fprintf(stderr, "authdns ctl: no --control, and %v\n", err)
				return 2
			}
			addr = cfg.Control
		}
		var opts []authdns.ClientOption
		if *caFile != "" || *tlsName != "" || *certFile != "" || *keyFile != "" {
			opt, err := authdns.WithTLS(authdns.ClientTLS{CAFile: *caFile, ServerName: *tlsName, CertFile: *certFile, KeyFile: *keyFile})
			if err != nil {
				fmt.Fprintln(stderr, "authdns ctl:", err)
				return 2
			}
			opts = append(opts, opt)
		}
		a := ctlAuth{tokenFile: *tokenFile, clientCert: *certFile != ""}
		return ctl(addr, a, *timeout, rest, stdout, stderr, opts...)
	default:
		fmt.Fprintf(stderr, "authdns: unknown command %q (see authdns --help)\n", cmd)
		return 2
	}
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

// parseInterspersed parses flags wherever they appear among the
// positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
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
	if err := d.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "authdns: %v\n", err)
		return 1
	}
	for sig := range sigs {
		if sig == syscall.SIGHUP {
			log.Info("SIGHUP: reloading")
			_ = d.Reload() // logged; the old state keeps serving
			continue
		}
		log.Info("shutting down", "signal", sig.String())
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
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: authdns geoip-lookup --config FILE MAP ADDRESS")
		return 2
	}
	addr, err := netip.ParseAddr(args[1])
	if err != nil {
		fmt.Fprintf(stderr, "authdns: %q is not an IP address\n", args[1])
		return 2
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
