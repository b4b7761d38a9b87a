package main

import (
	"strings"

	"github.com/geotraffic/geotraffic/conftool/ctl"
	"github.com/geotraffic/geotraffic/internal/cli"
)

// page is confctl's man page, made from ctl.Usage, its --help: conftool's
// syntax (global flags before the command) is described there.
func page() *cli.Page {
	first, text, _ := strings.Cut(ctl.Usage, "\n")
	return &cli.Page{
		Name:     "confctl",
		Summary:  "change the state kept in etcd in conftool's layout",
		Synopsis: []string{strings.TrimPrefix(first, "Usage: ")},
		Text:     text,
		Exit: []cli.Item{
			{Term: "0", Text: "done"},
			{Term: "1", Text: "refused or failed: nothing written, except by the transactions sync finished before a failure"},
			{Term: "2", Text: "usage error"},
		},
		Examples: []cli.Item{
			{Term: "confctl select 'dc=eqiad,cluster=appserver,service=apache2' get", Text: "Every apache2 node of eqiad's appserver cluster."},
			{Term: "confctl depool 'mw1001.*'", Text: "Depool a host from every service."},
			{Term: "confctl --object-type site --routing /etc/trafficctl/routing.yaml select name=esams set/state=down", Text: "Take a site down, after checking the routing still works without it."},
		},
		SeeAlso: []string{"authdns(1)", "trafficctl(1)", "lvsd(1)", "etcdctl(1)"},
	}
}
