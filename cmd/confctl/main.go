// Command confctl changes the state kept in etcd in conftool's layout:
// nodes, sites, admin_state entries, routes and app routes. See
// `confctl --help`; the logic is package conftool/ctl.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/geotraffic/geotraffic/conftool/ctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := ctl.Env{
		Stdin:    os.Stdin,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Getenv:   os.Getenv,
		Terminal: isTerminal(os.Stdin) && isTerminal(os.Stderr),
		Now:      time.Now,
	}
	code := ctl.Main(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}
