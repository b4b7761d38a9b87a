package monitor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/pylit"
	"github.com/geotraffic/geotraffic/probe"
	"github.com/prometheus/client_golang/prometheus"
)

// RunCommand runs a program (no shell) per check: exit status 0 is up.
// The argument list may use server.host (bare, as PyBal evaluates it, or
// quoted) for the real server's name and server.ip for its address. The
// child runs in its own session with an empty environment; on timeout its
// whole process group is killed.
type RunCommand struct {
	Command   string
	Arguments []pylit.Value // strings and pylit.Name placeholders
	Interval  time.Duration
	Timeout   time.Duration
	LogOutput bool
}

func parseRunCommand(o *options) Spec {
	c := &RunCommand{}
	v, ok := o.get("command")
	if !ok || strings.TrimSpace(v.Value) == "" {
		o.errs.Addf(o.at, "runcommand.command", "required by the RunCommand monitor")
	}
	c.Command = strings.TrimSpace(v.Value)
	if a, ok := o.get("arguments"); ok {
		c.Arguments = arguments(o, a)
	}
	c.Interval = o.seconds("interval", 60*time.Second)
	c.Timeout = o.seconds("timeout", 20*time.Second)
	c.LogOutput = o.boolean("log-output", true)
	return c
}

// arguments reads the command's arguments: a list of strings and of the
// names server.host and server.ip.
func arguments(o *options, a config.Option) []pylit.Value {
	pv, err := pylit.ParseNames(a.Value, []string{"server.host", "server.ip"})
	if err != nil {
		o.errorf("arguments", a, "%v", err)
		return nil
	}
	list, ok := pv.([]pylit.Value)
	if !ok {
		o.errorf("arguments", a, "want a list, got %s", pylit.TypeName(pv))
		return nil
	}
	for i, e := range list {
		switch e.(type) {
		case string, pylit.Name:
		default:
			o.errorf("arguments", a, "element %d is %s, not a string", i, pylit.TypeName(e))
			return nil
		}
	}
	return list
}

func (c *RunCommand) Name() string { return "RunCommand" }

func (c *RunCommand) New(m *Metrics) Monitor {
	return &looper{name: c.Name(), interval: c.Interval, timeout: c.Timeout, check: func(ctx context.Context, t Target, r Reporter) (bool, string) {
		return c.check(ctx, t, r, m)
	}}
}

// argv substitutes the server placeholders.
func (c *RunCommand) argv(t Target) []string {
	out := make([]string, 0, len(c.Arguments))
	for _, a := range c.Arguments {
		s, _ := a.(string)
		if n, ok := a.(pylit.Name); ok {
			s = string(n)
		}
		switch s {
		case "server.host":
			s = t.Host
		case "server.ip":
			s = t.Addr.String()
		}
		out = append(out, s)
	}
	return out
}

func (c *RunCommand) check(ctx context.Context, t Target, r Reporter, m *Metrics) (bool, string) {
	start := time.Now()
	out, err := probe.Command(ctx, append([]string{c.Command}, c.argv(t)...))
	d := time.Since(start)
	m.observe(func(m *Metrics) *prometheus.HistogramVec { return m.runCommandDuration }, t, d)
	if c.LogOutput {
		for i, buf := range [][]byte{out.Stdout, out.Stderr} {
			name := [2]string{"stdout", "stderr"}[i]
			sc := bufio.NewScanner(bytes.NewReader(buf))
			for sc.Scan() {
				r.Log(slog.LevelInfo, fmt.Sprintf("Cmd %s: %s", name, sc.Text()))
			}
		}
	}
	if err == nil {
		r.Log(slog.LevelDebug, fmt.Sprintf("Command %s succeeded, %s", c.Command, seconds(d)))
		return true, ""
	}
	var msg string
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		msg = fmt.Sprintf("Command %s timed out after %s, killed", c.Command, seconds(d))
	case errors.As(err, &exitErr) && exitErr.Exited():
		msg = fmt.Sprintf("Command %s failed with exit status %d, %s", c.Command, exitErr.ExitCode(), seconds(d))
	default:
		msg = fmt.Sprintf("Command %s failed: %v, %s", c.Command, err, seconds(d))
	}
	r.Log(slog.LevelWarn, msg)
	return false, msg
}
