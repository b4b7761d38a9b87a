package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/geotraffic/geotraffic/authdns/gdnsdimport"
	"github.com/geotraffic/geotraffic/internal/cli"
)

// importGdnsd runs `authdns import-gdnsd`: the report on stdout, one line
// per note, then what was written.
func importGdnsd(o *options, log *slog.Logger, stdout, stderr io.Writer) int {
	const name = "authdns import-gdnsd"
	if o.from == "" || o.to == "" {
		return cli.Fail(stderr, name, cli.Usagef("--from and --to are required"))
	}
	var listen []string
	if o.listen != "" {
		listen = strings.Split(o.listen, ",")
	}
	res, err := gdnsdimport.Import(gdnsdimport.Options{From: o.from, To: o.to, Listen: listen,
		GeoIPDBDir: o.geoipDBDir, StateDir: o.stateDir, Force: o.force, Log: log})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	for _, n := range res.Notes {
		fmt.Fprintln(stdout, n)
	}
	admin := "none there: nothing forced"
	if res.AdminState {
		admin = "copied"
	}
	fmt.Fprintf(stdout, "state directory %s (%s); admin_state %s\n", res.StateDir, res.StateFrom, admin)
	if res.CheckErr != nil {
		fmt.Fprintf(stderr, "%s: wrote %s, but authdns refuses it:\n%v\n", name, o.to, res.CheckErr)
		return 1
	}
	if res.Failed() {
		fmt.Fprintf(stderr, "%s: wrote %s, which authdns accepts, but it does not answer as gdnsd: see the error lines\n", name, o.to)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s; authdns accepts it (authdns checkconf --config %s/authdns.yaml)\n", o.to, strings.TrimRight(o.to, "/"))
	return 0
}
