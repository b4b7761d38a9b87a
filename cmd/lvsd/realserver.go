package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/geotraffic/geotraffic/internal/cli"
	"github.com/geotraffic/geotraffic/lvs/realserver"
)

// exitUnknown is Nagios's UNKNOWN: check could not look (a usage error,
// an unreadable file, no netlink), as opposed to a finding.
const exitUnknown = 3

type rsOptions struct {
	vips, config, ports, format string
}

// newRealServerFlags returns the flags of realserver apply or check.
func newRealServerFlags(cmd string) (*flag.FlagSet, *rsOptions) {
	o := &rsOptions{}
	fs := flag.NewFlagSet("lvsd realserver "+cmd, flag.ContinueOnError)
	fs.StringVar(&o.vips, "vips", "", "the service `IPs`, separated by commas (or --config)")
	fs.StringVar(&o.config, "config", "", "a VIP `file` (YAML: vips, and services with their vips and ports) instead of --vips")
	if cmd == "check" {
		fs.StringVar(&o.ports, "ports", "", "TCP `ports` separated by commas that must be listened on, on each --vips VIP or the wildcard address")
		fs.StringVar(&o.format, "format", "text", "output `format`: text or json")
	}
	return fs, o
}

func runRealServer(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "apply":
			return runRealServerApply(args[1:], stdout, stderr)
		case "check":
			return runRealServerCheck(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("lvsd realserver", flag.ContinueOnError)
	if code, ok := cli.Command(fs, args, realServerPage, stdout, stderr); !ok {
		return code
	}
	return cli.Fail(stderr, "lvsd realserver", cli.Usagef("missing command: want apply or check"))
}

// loadVIPs reads the VIPs of --vips (with --ports) or --config.
func (o *rsOptions) loadVIPs() ([]realserver.VIP, error) {
	switch {
	case o.vips != "" && o.config != "":
		return nil, cli.Usagef("--vips and --config exclude each other")
	case o.config != "":
		if o.ports != "" {
			return nil, cli.Usagef("--ports goes with --vips; a --config file names its ports")
		}
		return realserver.LoadConfig(o.config)
	case o.vips == "":
		return nil, cli.Usagef("missing --vips or --config")
	}
	ports, err := realserver.ParsePorts(o.ports)
	if err != nil {
		return nil, cli.Usagef("--ports: %v", err)
	}
	vips, err := realserver.ParseVIPs(o.vips, ports)
	if err != nil {
		return nil, cli.Usagef("--vips: %v", err)
	}
	return vips, nil
}

func runRealServerApply(args []string, stdout, stderr io.Writer) int {
	fs, o := newRealServerFlags("apply")
	if code, ok := cli.Command(fs, args, realServerApplyPage, stdout, stderr); !ok {
		return code
	}
	vips, err := o.loadVIPs()
	var ue *cli.UsageError
	if errors.As(err, &ue) {
		return cli.Fail(stderr, "lvsd realserver apply", err)
	}
	if err != nil {
		fmt.Fprintln(stderr, "lvsd realserver apply:", err)
		return cli.ExitError
	}
	sys, err := realserver.Open()
	if err != nil {
		fmt.Fprintln(stderr, "lvsd realserver apply:", err)
		return cli.ExitError
	}
	defer sys.Close()
	if _, err := realserver.Apply(sys, realserver.Addrs(vips), stdout); err != nil {
		fmt.Fprintln(stderr, "lvsd realserver apply:", err)
		return cli.ExitError
	}
	return cli.ExitOK
}

func runRealServerCheck(args []string, stdout, stderr io.Writer) int {
	fs, o := newRealServerFlags("check")
	if code, ok := cli.Command(fs, args, realServerCheckPage, stdout, stderr); !ok {
		if code == cli.ExitUsage {
			return exitUnknown
		}
		return code
	}
	vips, err := o.loadVIPs()
	if err == nil && o.format != "text" && o.format != "json" {
		err = cli.Usagef("--format %q: want text or json", o.format)
	}
	var ue *cli.UsageError
	if errors.As(err, &ue) {
		cli.Fail(stderr, "lvsd realserver check", err)
		return exitUnknown
	}
	if err != nil {
		fmt.Fprintln(stdout, "UNKNOWN:", err)
		return exitUnknown
	}
	sys, err := realserver.Open()
	if err != nil {
		fmt.Fprintln(stdout, "UNKNOWN:", err)
		return exitUnknown
	}
	defer sys.Close()
	r, err := realserver.Check(sys, vips)
	if err != nil {
		fmt.Fprintln(stdout, "UNKNOWN:", err)
		return exitUnknown
	}
	if o.format == "json" {
		if err := r.WriteJSON(stdout); err != nil {
			return exitUnknown
		}
	} else {
		r.WriteText(stdout)
	}
	return int(r.Status)
}

func realServerPage() *cli.Page {
	return &cli.Page{
		Name: "lvsd realserver", Synopsis: []string{"lvsd realserver apply|check ..."},
		Text: `Prepares and checks a real server of a direct-routing (DR) service; it
runs on the real servers, not on the director.`,
		Commands: []cli.Page{*realServerApplyPage(), *realServerCheckPage()},
	}
}

func realServerApplyPage() *cli.Page {
	fs, _ := newRealServerFlags("apply")
	return &cli.Page{
		Name: "lvsd realserver apply", Synopsis: []string{"lvsd realserver apply --vips VIP[,VIP...] | --config FILE"}, Flags: fs,
		Text: `On a real server of a direct-routing service: binds each VIP to lo as
a /32 or /128 marked as managed (IPv4: label lo:LVS; IPv6: flags
nodad and noprefixroute), sets net.ipv4.conf.{all,lo,IFACE}.arp_ignore=1
and arp_announce=2 for every interface carrying a default route, and
removes managed VIPs no longer listed. Addresses it does not manage are
never touched. Prints each change, or "no change". Needs CAP_NET_ADMIN;
status 1 on an error (a bad file changes nothing).`,
	}
}

func realServerCheckPage() *cli.Page {
	fs, _ := newRealServerFlags("check")
	return &cli.Page{
		Name: "lvsd realserver check", Synopsis: []string{"lvsd realserver check --vips VIP[,VIP...] [--ports PORT[,PORT...]] | --config FILE [--format json]"}, Flags: fs,
		Text: `A Nagios-style diagnosis of a real server. CRITICAL (status 2): a VIP
not bound on lo; a VIP also bound on another interface (it answers ARP
and takes the director's traffic); an ARP sysctl other than
arp_ignore=1, arp_announce=2; nothing listening on VIP:PORT or the
wildcard address. WARNING (status 1): a VIP on lo with a prefix other
than /32 or /128, or without the managed marker (bound by hand); strict
rp_filter (1) on an interface carrying a default route. OK: status 0.
UNKNOWN (status 3): it could not check (usage error, bad file).`,
	}
}
