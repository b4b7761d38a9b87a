package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/authdns"
	"github.com/geotraffic/geotraffic/internal/cli"
)

// ctlAuth is how ctl authenticates to a TCP control address: a bearer
// token, a client certificate (in the TLS options), or both.
type ctlAuth struct {
	tokenFile  string
	clientCert bool
}

// ctl calls one control API command and prints its JSON answer.
func ctl(addr string, auth ctlAuth, timeout time.Duration, args []string, stdout, stderr io.Writer, opts ...authdns.ClientOption) int {
	if len(args) == 0 {
		return cli.Fail(stderr, "authdns ctl", cli.Usagef("missing COMMAND: status, reload, states, stats, data, stage DIR, commit ID or abort ID"))
	}
	switch args[0] {
	case "stage", "commit", "abort":
		if len(args) != 2 || args[1] == "" {
			what := "ID"
			if args[0] == "stage" {
				what = "DIR"
			}
			return cli.Fail(stderr, "authdns ctl", cli.Usagef("want %s %s (one argument)", args[0], what))
		}
	}
	token := ""
	if auth.tokenFile != "" {
		data, err := os.ReadFile(auth.tokenFile)
		if err != nil {
			fmt.Fprintln(stderr, "authdns ctl:", err)
			return 2
		}
		token = strings.TrimSpace(string(data))
	}
	tcp := authdns.IsTCPAddr(addr) || strings.HasPrefix(addr, authdns.TLSScheme)
	if tcp && token == "" && !auth.clientCert {
		fmt.Fprintln(stderr, "authdns ctl: a TCP control address needs --token-file (or a client certificate: --cert-file and --key-file)")
		return 2
	}
	if err := authdns.TokenInClear(addr, token, opts...); err != nil {
		fmt.Fprintln(stderr, "authdns ctl:", err)
		return 2
	}
	c := authdns.NewClient(addr, token, timeout, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []byte
	var err error
	switch cmd := args[0]; cmd {
	case "status", "states", "stats", "data":
		out, err = c.Raw(ctx, "GET", "/v1/"+cmd)
	case "reload":
		out, err = c.Raw(ctx, "POST", "/v1/reload")
	case "stage":
		var id string
		id, err = stage(ctx, c, args[1])
		out = []byte(id + "\n")
	case "commit":
		var st *authdns.Status
		if st, err = c.Commit(ctx, args[1]); err == nil {
			out, err = json.MarshalIndent(st, "", "  ")
			out = append(out, '\n')
		}
	case "abort":
		err = c.Abort(ctx, args[1])
		out = []byte("aborted " + args[1] + "\n")
	default:
		return cli.Fail(stderr, "authdns ctl", cli.Usagef("unknown command %q", cmd))
	}
	if err != nil {
		var api *authdns.APIError
		if errors.As(err, &api) {
			fmt.Fprintf(stderr, "authdns ctl %s: %s\n", args[0], api.Msg)
		} else {
			fmt.Fprintf(stderr, "authdns ctl %s: %v\n", args[0], err)
		}
		return 1
	}
	stdout.Write(out)
	return 0
}

// stage stages DIR as a bundle under a fresh id, against the data digest
// the server serves now, and returns the id. It shows no diff and checks
// no git tree: authdns-update does that for real rollouts.
func stage(ctx context.Context, c *authdns.Client, dir string) (string, error) {
	if links, err := authdns.SymlinkedDirs(dir); err != nil {
		return "", err
	} else if len(links) > 0 {
		return "", fmt.Errorf("%s: %s: a symlink to a directory; a bundle carries regular files only: replace it with a real directory", dir, strings.Join(links, ", "))
	}
	b, err := authdns.ReadBundle(dir)
	if err != nil {
		return "", err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return "", err
	}
	res, err := c.Stage(ctx, &authdns.StageRequest{ID: authdns.NewStageID("ctl-"), Before: st.DataDigest, Bundle: *b})
	if err != nil {
		return "", err
	}
	return res.ID, nil
}
