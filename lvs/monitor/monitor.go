// Package monitor runs PyBal's health checks (ProxyFetch, IdleConnection,
// RunCommand, DNSQuery, UDP) against one real server each, with PyBal's
// names, options, defaults and log line shapes, plus rise/fall damping.
package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/lvs/config"
	"github.com/geotraffic/geotraffic/lvs/pylit"
)

// Target is the server a monitor checks.
type Target struct {
	Service string // LVS service name, for logs and metrics
	Host    string
	Addr    netip.Addr
	Port    uint16 // real-server port (the service port unless NAT)
}

// AddrPort is the target's socket address.
func (t Target) AddrPort() netip.AddrPort { return netip.AddrPortFrom(t.Addr, t.Port) }

// Reporter receives a monitor's raw results and log lines.
type Reporter interface {
	// Result is one check's verdict; msg explains it.
	Result(up bool, msg string)
	// Log writes a line in PyBal's shape for this monitor and server.
	Log(level slog.Level, msg string)
}

// Monitor checks one server until ctx ends.
type Monitor interface {
	Name() string
	Run(ctx context.Context, t Target, r Reporter)
}

// Spec builds monitors of one kind for every server of a service.
type Spec interface {
	Name() string
	New(m *Metrics) Monitor
}

// Canonical monitor names, as pybal.conf spells them.
var names = []string{"ProxyFetch", "IdleConnection", "RunCommand", "DNSQuery", "UDP"}

// Parse validates a monitor name and its options (the "<monitor>.<opt>"
// keys of the service, lower-cased monitor prefix stripped). Every bad
// option is reported (conf.Errors, naming file, line and key); warnings
// report unknown options.
func Parse(name string, opts map[string]config.Option, at conf.Pos) (Spec, []string, error) {
	o := &options{m: opts, prefix: strings.ToLower(name), used: map[string]bool{}, at: at}
	var s Spec
	switch strings.ToLower(name) {
	case "proxyfetch":
		s = parseProxyFetch(o)
	case "idleconnection":
		s = parseIdleConnection(o)
	case "runcommand":
		s = parseRunCommand(o)
	case "dnsquery":
		s = parseDNSQuery(o)
	case "udp":
		s = parseUDP(o)
	default:
		return nil, nil, at.Errorf("monitors", "unknown monitor %q (want one of %s)", name, strings.Join(names, ", "))
	}
	if err := o.errs.Err(); err != nil {
		return nil, nil, err
	}
	var warn []string
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !o.used[k] {
			warn = append(warn, fmt.Sprintf("%s: %s.%s: unknown %s option, ignored", opts[k].Pos, o.prefix, k, s.Name()))
		}
	}
	return s, warn, nil
}

// options reads one monitor's options with typed defaults; a bad value
// is recorded in errs and reads as the default, so every option is
// checked.
type options struct {
	m      map[string]config.Option
	prefix string
	used   map[string]bool
	at     conf.Pos
	errs   conf.List
}

func (o *options) get(k string) (config.Option, bool) {
	o.used[k] = true
	v, ok := o.m[k]
	return v, ok
}

// errorf records a problem with option k's value v.
func (o *options) errorf(k string, v config.Option, format string, args ...any) {
	o.errs.Addf(v.Pos, o.prefix+"."+k, format, args...)
}

func (o *options) seconds(k string, def time.Duration) time.Duration {
	v, ok := o.get(k)
	if !ok {
		return def
	}
	d, err := config.ParseSeconds(v.Value)
	if err != nil {
		o.errorf(k, v, "%v", err)
		return def
	}
	if d < time.Millisecond {
		o.errorf(k, v, "must be positive")
		return def
	}
	return d
}

func (o *options) boolean(k string, def bool) bool {
	v, ok := o.get(k)
	if !ok {
		return def
	}
	b, err := config.ParseBool(v.Value)
	if err != nil {
		o.errorf(k, v, "%v", err)
		return def
	}
	return b
}

func (o *options) integer(k string, def, lo, hi int) int {
	v, ok := o.get(k)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v.Value))
	if err != nil || n < lo || n > hi {
		o.errorf(k, v, "must be an integer %d-%d, not %q", lo, hi, v.Value)
		return def
	}
	return n
}

func (o *options) stringList(k string, required bool) []string {
	v, ok := o.get(k)
	if !ok {
		if required {
			o.errs.Addf(o.at, o.prefix+"."+k, "required by the %s monitor", o.prefix)
		}
		return nil
	}
	l, err := pylit.StringList(v.Value)
	if err != nil {
		o.errorf(k, v, "%v", err)
		return nil
	}
	if required && len(l) == 0 {
		o.errorf(k, v, "must not be empty")
	}
	return l
}

// looper is a periodic check: first run one interval after start, then
// one interval after the previous check finished, so checks never overlap.
type looper struct {
	name     string
	interval time.Duration
	timeout  time.Duration
	check    func(ctx context.Context, t Target, r Reporter) (up bool, msg string)
}

func (l *looper) Name() string { return l.name }

func (l *looper) Run(ctx context.Context, t Target, r Reporter) {
	timer := time.NewTimer(jitter(l.interval))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		cctx, cancel := context.WithTimeout(ctx, l.timeout)
		up, msg := l.check(cctx, t, r)
		cancel()
		if ctx.Err() != nil {
			return
		}
		r.Result(up, msg)
		timer.Reset(l.interval)
	}
}

// jitter spreads the first checks of many servers over up to 10% of the
// interval so they do not all fire at once after a start or reload.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// seconds renders a duration as PyBal does: "0.012 s".
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }
