package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/authdns"
)

// ctl calls one control API command and prints its JSON answer.
func ctl(addr, tokenFile string, timeout time.Duration, args []string, stdout, stderr io.Writer, opts ...authdns.ClientOption) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: authdns ctl [--control ADDR] COMMAND (status, reload, states, stats, data, abort [ID])")
		return 2
	}
	token := ""
	if tokenFile != "" {
		data, err := os.ReadFile(tokenFile)
		if err != nil {
			fmt.Fprintln(stderr, "authdns ctl:", err)
			return 2
		}
		token = strings.TrimSpace(string(data))
	}
	if authdns.IsTCPAddr(addr) && token == "" {
		fmt.Fprintln(stderr, "authdns ctl: a TCP control address needs --token-file")
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
	case "abort":
		id := ""
		if len(args) > 1 {
			id = args[1]
		}
		err = c.Abort(ctx, id)
		out = []byte("aborted\n")
	default:
		fmt.Fprintf(stderr, "authdns ctl: unknown command %q\n", cmd)
		return 2
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
