package main

import (
	"flag"
	"io"

	"github.com/geotraffic/geotraffic/internal/cli"
)

// runFunc runs a command on its positional arguments, its flags parsed.
type runFunc func(pos []string, stdout, stderr io.Writer) error

// subcommand is one trafficctl command: its help, and setup, which
// registers its flags on fs and returns the run bound to them.
type subcommand struct {
	page  cli.Page
	setup func(fs *flag.FlagSet) runFunc
}

func subcommands() []subcommand {
	return []subcommand{
		{cli.Page{Name: "trafficctl routes", Synopsis: []string{"trafficctl routes --routing FILE [--admin-state FILE] [ETCD] [--cluster C] [--format table|json]"},
			Text: "Prints the resolved path of every cluster and entry site, with reasons and\napp choices."}, cmdRoutes},
		{cli.Page{Name: "trafficctl explain", Synopsis: []string{"trafficctl explain --routing FILE [--admin-state FILE] [ETCD] [--format text|json] CLUSTER SITE [APP]"},
			Text: "Explains the route of users entering CLUSTER at SITE hop by hop, and where\neach app (or APP only) goes."}, cmdExplain},
		{cli.Page{Name: "trafficctl what-if", Synopsis: []string{"trafficctl what-if --routing FILE --down SITE[,SITE] [--admin-state FILE] [ETCD] [--cluster C] [--format table|json]"},
			Text: "Shows, for every cluster, entry site and app, the route now (under\n--admin-state) and with the given sites DOWN as well. Nothing is written."}, cmdWhatIf},
		{cli.Page{Name: "trafficctl check", Synopsis: []string{"trafficctl check --routing FILE --authdns-config FILE [--admin-state FILE] [ETCD] [--format text|json]"},
			Text: `Cross-checks routing (under --admin-state, by default the admin_state the
authdns configuration names) with the GeoDNS configuration: warns when
traffic_shutdown is set for a site GeoDNS still sends users to (move DNS
first, hard-block only long after), when a site is DOWN for routing but not
for DNS, and when GeoDNS sends users to a site with no route. Exits 3 when
it warns.`}, cmdCheck},
		{cli.Page{Name: "trafficctl serve", Synopsis: []string{"trafficctl serve --routing FILE --admin-state FILE [ETCD] [--listen ADDR] [--idle-timeout D]"},
			Text: `Serves the resolved routes as JSON (/routes, /routes/CLUSTER,
/routes/CLUSTER/SITE), /status and Prometheus /metrics, and an overview page
for browsers at / (a world map of the sites by state with one cluster's
routes, ?cluster=NAME, every route, and the etcd audit log), re-resolving within
a second of either file changing, and at once on each etcd change with
--etcd. A bad new file keeps the last good one (logged, and
geotraffic_routing_file_valid{file} = 0), as etcd overrides that do not
validate with routing.yaml keep the last good combination (file="etcd").
SIGHUP re-reads both files; SIGINT/SIGTERM stop.`}, cmdServe},
	}
}

// subPage is c's page with its flags, for --help and the man page.
func (c subcommand) subPage() *cli.Page {
	p := c.page
	p.Flags = flag.NewFlagSet(p.Name, flag.ContinueOnError)
	c.setup(p.Flags)
	return &p
}

func page() *cli.Page {
	p := &cli.Page{
		Name:    "trafficctl",
		Summary: "cache routing around DOWN sites",
		Synopsis: []string{
			"trafficctl COMMAND [FLAGS] [ARGS]",
			"trafficctl COMMAND --help",
			"trafficctl version | --version | --help",
		},
		Text: `trafficctl resolves, explains and serves the inter-cache and
cache-to-application routes of routing.yaml under the admin_state file
shared with authdns. Flags may come before or after a command's arguments.

ETCD: --etcd URL[,URL] [--etcd-prefix P] [--etcd-cacert FILE] [--etcd-cert
FILE --etcd-key FILE] [--etcd-user USER] [--etcd-timeout D]. With --etcd,
etcd's site, route and app-route objects override routing.yaml and sit
under the admin_state file (which wins).

A site is DOWN for routing when the admin_state file (or etcd) says
'site/NAME => DOWN' (geoip/... keys are for GeoDNS and are ignored here).`,
		Exit: []cli.Item{
			{Term: "0", Text: "ok"},
			{Term: "1", Text: "error: bad or unreadable file, etcd unreachable or its overrides refused"},
			{Term: "2", Text: "usage error"},
			{Term: "3", Text: "check found disagreements with GeoDNS"},
		},
		Env:   []cli.Item{{Term: "TRAFFICCTL_ETCD_PASSWORD", Text: "the password of --etcd-user"}},
		Files: []cli.Item{{Term: "/etc/trafficctl/routing.yaml", Text: "routing.yaml, as the example systemd unit names it"}},
		Examples: []cli.Item{
			{Term: "trafficctl routes --routing routing.yaml --admin-state admin_state", Text: "The route of every cluster and entry site now."},
			{Term: "trafficctl what-if --routing routing.yaml --down codfw", Text: "What changes if codfw goes down."},
			{Term: "trafficctl explain text ulsfo --routing routing.yaml", Text: "Why users entering text at ulsfo go where they go."},
		},
		SeeAlso: []string{"authdns(1)", "confctl(1)"},
	}
	for _, c := range subcommands() {
		p.Commands = append(p.Commands, *c.subPage())
	}
	return p
}
