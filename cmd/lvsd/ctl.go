package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/geotraffic/geotraffic/internal/cli"
	"github.com/geotraffic/geotraffic/internal/unixctl"
	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/daemon"
)

type ctlOptions struct {
	config, socket, reason string
	force                  bool
}

func newCtlFlags() (*flag.FlagSet, *ctlOptions) {
	o := &ctlOptions{}
	fs := flag.NewFlagSet("lvsd ctl", flag.ContinueOnError)
	fs.StringVar(&o.config, "config", defaultConfig, "pybal.conf `file` (its [global] control-socket)")
	fs.StringVar(&o.config, "c", defaultConfig, "short for --config")
	fs.StringVar(&o.socket, "socket", "", "control socket `path` (default: control-socket from pybal.conf)")
	fs.StringVar(&o.reason, "reason", "", "depool: why, shown in /pools, /alerts and the status page")
	fs.BoolVar(&o.force, "force", false, "depool: even below the depool threshold, and never pooled again by it until repooled")
	return fs, o
}

// runCtl is lvsd ctl depool|repool SERVICE HOST.
func runCtl(args []string, stdout, stderr io.Writer) int {
	fs, o := newCtlFlags()
	pos, err := cli.Parse(fs, args)
	if errors.Is(err, cli.ErrHelp) {
		return cli.Help(stdout, ctlPage())
	}
	if err == nil {
		err = cli.Args(pos, 3, 3, "depool|repool SERVICE HOST")
	}
	if err == nil && pos[0] != "depool" && pos[0] != "repool" {
		err = cli.Usagef("unknown command %q: want depool or repool", pos[0])
	}
	if err == nil && pos[0] == "repool" && (o.reason != "" || o.force) {
		err = cli.Usagef("--reason and --force are for depool")
	}
	if err != nil {
		return cli.Fail(stderr, "lvsd ctl", err)
	}
	sock := o.socket
	if sock == "" {
		cfg, err := config.Load(o.config)
		if err != nil {
			fmt.Fprintln(stderr, "lvsd ctl:", err)
			return 1
		}
		sock = cfg.Global.ControlSocket
	}
	rep, err := ctlCall(sock, pos[0], daemon.CtlRequest{Service: pos[1], Host: pos[2], Reason: o.reason, Force: o.force})
	if err != nil {
		fmt.Fprintf(stderr, "lvsd ctl %s: %v\n", pos[0], err)
		return 1
	}
	line := fmt.Sprintf("%s %s: %s", rep.Service, rep.Host, rep.Status)
	if rep.Manual != "" {
		line += " (" + rep.Manual + ")"
	}
	fmt.Fprintln(stdout, line)
	return 0
}

func ctlCall(sock, op string, req daemon.CtlRequest) (daemon.CtlReply, error) {
	var rep daemon.CtlReply
	body, _ := json.Marshal(req)
	cl := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: unixctl.Dialer(sock)}}
	resp, err := cl.Post("http://lvsd/v1/"+op, "application/json", bytes.NewReader(body))
	if err != nil {
		return rep, fmt.Errorf("control socket %w", unixctl.ClientError(sock, err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil { // lvsd answered: not a refusal
		return rep, fmt.Errorf("control socket %s: %w", sock, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return rep, errors.New(e.Error)
		}
		return rep, fmt.Errorf("control socket %s: %s", sock, resp.Status)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return rep, fmt.Errorf("control socket %s: %w", sock, err)
	}
	return rep, nil
}

func ctlPage() *cli.Page {
	fs, _ := newCtlFlags()
	return &cli.Page{
		Name: "lvsd ctl",
		Synopsis: []string{"lvsd ctl depool SERVICE HOST [--reason TEXT] [--force] [--config FILE | --socket PATH]",
			"lvsd ctl repool SERVICE HOST [--config FILE | --socket PATH]"},
		Flags: fs,
		Text: `Emergency depool through the running lvsd's control socket (root or
lvsd's user only), instead of ipvsadm -d, which lvsd's drift repair
undoes. depool takes HOST out of SERVICE at once through the depool
threshold (refused, changing nothing, when it would leave too few up and
enabled servers; --force overrides and keeps the threshold from pooling
it again). /pools, /alerts (a warning) and the status page show
"manually depooled by USER: REASON", USER being the caller's login. The
depool is kept in the manual-depool-state file and survives restarts
until repool, which hands the server back to its pool and monitors. With
etcd pools prefer confctl; this is for when etcd or the pool source is
the problem.`,
	}
}
