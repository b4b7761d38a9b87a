// Command confctl changes the state kept in etcd in conftool's layout:
// nodes, sites, admin_state entries, routes and app routes. See
// `confctl --help`; the logic is package conftool/ctl.
package main

import (
	"context"
	"os"
	"time"

	"github.com/geotraffic/geotraffic/conftool/ctl"
)

// Signals are not caught: Ctrl-C must end confctl even at its y/N
// question, and a change is one etcd transaction, written whole or not
// at all, whenever the process dies.
func main() {
	env := ctl.Env{
		Stdin:    os.Stdin,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Getenv:   os.Getenv,
		Terminal: isTerminal(os.Stdin) && isTerminal(os.Stderr),
		Now:      time.Now,
	}
	os.Exit(ctl.Main(context.Background(), env, os.Args[1:]))
}
