package ctl

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/internal/cli"
)

// Environment variables confctl reads.
const (
	EnvEtcd     = "CONFCTL_ETCD"     // endpoints when --etcd is not given
	EnvPassword = "CONFCTL_PASSWORD" // the password of --user
	EnvRouting  = "CONFCTL_ROUTING"  // routing.yaml when --routing is not given
)

// DefaultEndpoint is etcd's own default client URL.
const DefaultEndpoint = "http://127.0.0.1:2379"

// Options are the global flags, given before the command.
type Options struct {
	Etcd    etcdstore.ClientConfig
	Prefix  string
	Kind    conftool.Kind
	Routing string // routing.yaml; "" when neither --routing nor CONFCTL_ROUTING
	Yes     bool
	Force   bool
	Timeout time.Duration
}

// Command is what to do, after the global flags.
type Command struct {
	Name     string // select, pool, depool, drain, decommission, sync or log
	Selector string // select and the host shortcuts
	Action   string // get, set or delete
	Assign   []conftool.Assignment
	Pools    string // sync
	Prune    bool   // sync
	N        int    // log
	JSON     bool   // log
	Line     string // the command line, shell-quoted, for the audit record
}

// shortcut is the assignment a host command of conftool's makes to
// every node of the host; drain keeps pooled as it is.
func shortcut(name string) string {
	return map[string]string{
		"pool":         "pooled=yes",
		"depool":       "pooled=no",
		"drain":        "weight=0",
		"decommission": "pooled=inactive",
	}[name]
}

// UsageError is a command line that cannot be run as written (exit 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ErrHelp is returned by Parse for -h, --help and `help`.
var ErrHelp = cli.ErrHelp

// Parse reads the command line (without the program name). getenv supplies
// the CONFCTL_* defaults.
func Parse(args []string, getenv func(string) string) (Options, Command, error) {
	opts, rest, err := parseGlobal(args, getenv)
	if err != nil {
		return opts, Command{}, err
	}
	if len(rest) == 0 {
		return opts, Command{}, usagef("no command (want select, pool, depool, drain, decommission, sync or log; see --help)")
	}
	cmd := Command{Name: rest[0], Line: quoteLine(append([]string{"confctl"}, args...))}
	switch cmd.Name {
	case "select":
		err = parseSelect(&cmd, rest[1:])
	case "pool", "depool", "drain", "decommission":
		err = parseShortcut(&cmd, opts, rest[1:])
	case "sync":
		err = parseSync(&cmd, &opts, rest[1:])
	case "log":
		err = parseLog(&cmd, rest[1:])
	case "help":
		err = ErrHelp
	default:
		err = usagef("unknown command %q (want select, pool, depool, drain, decommission, sync or log; global flags come first)", cmd.Name)
	}
	return opts, cmd, err
}

func parseGlobal(args []string, getenv func(string) string) (Options, []string, error) {
	fs := flag.NewFlagSet("confctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := Options{}
	etcd := fs.String("etcd", "", "etcd endpoints, comma-separated (default $"+EnvEtcd+", else "+DefaultEndpoint+")")
	fs.StringVar(&o.Prefix, "prefix", conftool.DefaultPrefix, "key prefix of every object")
	kind := fs.String("object-type", string(conftool.Node), "object type: node, site, admin-state, route or app-route")
	fs.StringVar(&o.Etcd.CACert, "cacert", "", "CA certificate (PEM) of etcd's server certificate")
	fs.StringVar(&o.Etcd.Cert, "cert", "", "client certificate (PEM), with --key")
	fs.StringVar(&o.Etcd.Key, "key", "", "client key (PEM), with --cert")
	fs.StringVar(&o.Etcd.User, "user", "", "etcd user; the password is $"+EnvPassword)
	fs.StringVar(&o.Routing, "routing", "", "routing.yaml (default $"+EnvRouting+")")
	fs.BoolVar(&o.Yes, "yes", false, "change several objects without asking")
	fs.BoolVar(&o.Force, "force", false, "write a change that the routing safety check refuses (loudly)")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "give up on etcd after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, nil, ErrHelp
		}
		return o, nil, &UsageError{Err: err}
	}
	if *etcd == "" {
		*etcd = getenv(EnvEtcd)
	}
	if *etcd == "" {
		*etcd = DefaultEndpoint
	}
	for _, e := range strings.Split(*etcd, ",") {
		if e = strings.TrimSpace(e); e != "" {
			o.Etcd.Endpoints = append(o.Etcd.Endpoints, e)
		}
	}
	o.Etcd.Password = getenv(EnvPassword)
	if o.Routing == "" {
		o.Routing = getenv(EnvRouting)
	}
	k, err := conftool.ParseKind(*kind)
	if err != nil {
		return o, nil, &UsageError{Err: err}
	}
	o.Kind = k
	if o.Timeout <= 0 {
		return o, nil, usagef("--timeout %s: want a positive duration", o.Timeout)
	}
	// With --user the client logs in while connecting: --timeout bounds that too.
	o.Etcd.DialTimeout = o.Timeout
	return o, fs.Args(), nil
}

func parseSelect(cmd *Command, args []string) error {
	if len(args) != 2 {
		return usagef("select takes a selector and an action: select 'TAG=REGEX,...' get|set/K=V[:K=V]|delete")
	}
	cmd.Selector = args[0]
	switch action := args[1]; {
	case action == "get", action == "delete":
		cmd.Action = action
	case strings.HasPrefix(action, "set/"):
		as, err := conftool.ParseAssignments(strings.TrimPrefix(action, "set/"))
		if err != nil {
			return &UsageError{Err: err}
		}
		cmd.Action, cmd.Assign = "set", as
	default:
		return usagef("unknown action %q (want get, set/K=V[:K=V] or delete)", action)
	}
	return nil
}

func parseShortcut(cmd *Command, o Options, args []string) error {
	if len(args) != 1 {
		return usagef("%s takes one HOST-REGEX", cmd.Name)
	}
	if o.Kind != conftool.Node {
		return usagef("%s changes nodes; it takes no --object-type %s", cmd.Name, o.Kind)
	}
	as, err := conftool.ParseAssignments(shortcut(cmd.Name))
	if err != nil {
		return err
	}
	cmd.Selector, cmd.Action, cmd.Assign = "name="+args[0], "set", as
	return nil
}

func parseSync(cmd *Command, o *Options, args []string) error {
	fs := flag.NewFlagSet("confctl sync", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cmd.Pools, "pools", "", "conftool-data pools YAML (dc: cluster: host: [services])")
	fs.StringVar(&o.Routing, "routing", o.Routing, "routing.yaml")
	fs.BoolVar(&cmd.Prune, "prune", false, "delete objects the files no longer define")
	pos, err := cli.Parse(fs, args)
	if errors.Is(err, cli.ErrHelp) {
		return ErrHelp
	}
	switch {
	case err != nil:
		return &UsageError{Err: fmt.Errorf("sync: %w", err)}
	case len(pos) > 0:
		return usagef("sync: unexpected argument %q", pos[0])
	case cmd.Pools == "":
		return usagef("sync needs --pools FILE")
	case o.Routing == "":
		return usagef("sync needs --routing FILE (or $%s)", EnvRouting)
	}
	return nil
}

func parseLog(cmd *Command, args []string) error {
	fs := flag.NewFlagSet("confctl log", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&cmd.N, "n", 20, "print the last N records (0: all)")
	fs.BoolVar(&cmd.JSON, "json", false, "print the raw JSON records")
	pos, err := cli.Parse(fs, args)
	if errors.Is(err, cli.ErrHelp) {
		return ErrHelp
	}
	if err != nil {
		return &UsageError{Err: fmt.Errorf("log: %w", err)}
	}
	if len(pos) > 0 {
		return usagef("log: unexpected argument %q", pos[0])
	}
	if cmd.N < 0 {
		return usagef("log: -n %d: want 0 (all) or more", cmd.N)
	}
	return nil
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./=:,@%+-]+$`)

// quoteLine joins args as a shell would need them typed, for the audit log.
func quoteLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if plainWord.MatchString(a) {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}
