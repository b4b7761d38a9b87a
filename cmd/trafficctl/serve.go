package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/geotraffic/geotraffic/internal/cli"
	"github.com/geotraffic/geotraffic/internal/version"
	"github.com/geotraffic/geotraffic/routing/service"
)

func cmdServe(fs *flag.FlagSet) runFunc {
	var routingPath, adminPath, listen, logLevel string
	var poll, idle time.Duration
	var etcd etcdFlags
	etcd.register(fs, "with --etcd, how long to wait for etcd's first view before serving (then serve the files alone until etcd answers)")
	fs.StringVar(&routingPath, "routing", "", "routing.yaml to serve (required)")
	fs.StringVar(&adminPath, "admin-state", "", "admin_state file shared with authdns (required; a missing file forces nothing)")
	fs.StringVar(&listen, "listen", "127.0.0.1:9105", "HTTP listen address (port 0 picks a free port; the log says which)")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&poll, "poll", 2*time.Second, "safety-net re-read interval for filesystems without inotify (0 disables)")
	fs.DurationVar(&idle, "idle-timeout", 60*time.Second, "how long an idle keep-alive HTTP connection is kept before the server closes it")
	return func(pos []string, stdout, stderr io.Writer) error {
		if len(pos) > 0 {
			return cli.Usagef("unexpected arguments %q", pos)
		}
		if routingPath == "" || adminPath == "" {
			return cli.Usagef("--routing FILE and --admin-state FILE are required")
		}
		if err := etcd.check(fs); err != nil {
			return err
		}
		level, err := cli.LogLevel(logLevel)
		if err != nil {
			return err
		}
		if idle <= 0 {
			return cli.Usagef("--idle-timeout must be above 0 (an idle connection must not be kept forever)")
		}
		if poll == 0 {
			poll = -1 // service: negative disables
		}
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		opts := service.Options{RoutingPath: routingPath, AdminStatePath: adminPath, Log: log, Registry: reg, Poll: poll}
		if etcd.enabled() {
			cli, err := etcd.client()
			if err != nil {
				return err
			}
			defer cli.Close()
			opts.Etcd = &service.EtcdOptions{Client: cli, Layout: etcd.layout(), Endpoints: etcd.endpointList()}
		}
		svc, err := service.New(opts)
		if err != nil {
			return err
		}
		// Signals first: a SIGHUP before Notify would kill the process.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		errc := make(chan error, 2)
		runCtx, stopRun := context.WithCancel(context.Background())
		ran := make(chan struct{})
		go func() { defer close(ran); errc <- svc.Run(runCtx) }()
		// Run ends after the HTTP server, and before the etcd client closes.
		defer func() { stopRun(); <-ran }()
		if etcd.enabled() {
			waitEtcd(ctx, svc, etcd, log)
		}
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}

		srv := newHTTPServer(svc.Handler(), idle)
		go func() { errc <- srv.Serve(ln) }()
		attrs := []any{"addr", ln.Addr().String(), "version", version.Version, "routing", routingPath, "admin_state", adminPath}
		if etcd.enabled() {
			attrs = append(attrs, "etcd", etcd.endpoints, "etcd_prefix", etcd.layout().Prefix)
		}
		log.Info("trafficctl: serving routes", attrs...)
		for {
			select {
			case <-hup:
				log.Info("trafficctl: SIGHUP, re-reading files")
				_ = svc.Reload()
				continue
			case err = <-errc:
				if errors.Is(err, http.ErrServerClosed) {
					err = nil
				}
			case <-ctx.Done():
			}
			break
		}
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx)
		log.Info("trafficctl: stopped")
		return err
	}
}

// waitEtcd waits, at most --etcd-timeout, for etcd's first view, so that
// serve does not answer with routing.yaml alone while etcd holds
// overrides. Without it by then, serve starts anyway (the watchers apply
// etcd once it answers): routes must be served while etcd is down.
func waitEtcd(ctx context.Context, svc *service.Service, etcd etcdFlags, log *slog.Logger) {
	t := time.NewTimer(etcd.timeout)
	defer t.Stop()
	select {
	case <-svc.EtcdReady():
	case <-ctx.Done():
	case <-t.C:
		log.Warn("trafficctl: etcd has not answered; serving routing.yaml and admin_state alone until it does",
			"etcd", etcd.endpoints, "waited", etcd.timeout)
	}
}
