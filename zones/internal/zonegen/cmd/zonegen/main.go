// Command zonegen writes zonegen's production-sized zones directory, to
// load it in authdns or gdnsd by hand:
//
//	go run ./zones/internal/zonegen/cmd/zonegen -dir /tmp/z [-zones 300] [-mb 30] [-dyn geoip!text-addrs]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/geotraffic/geotraffic/zones/internal/zonegen"
)

func main() {
	dir := flag.String("dir", "", "directory to fill (created)")
	zones := flag.Int("zones", 0, "forward zones (default 300)")
	mb := flag.Int("mb", 0, "megabytes of zone text (default 30)")
	dyn := flag.String("dyn", "", "DYNA/DYNC target (default geoip!text-addrs)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "zonegen: -dir is required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "zonegen:", err)
		os.Exit(1)
	}
	st, err := zonegen.Write(*dir, zonegen.Spec{Zones: *zones, Bytes: int64(*mb) << 20, Dyn: *dyn})
	if err != nil {
		fmt.Fprintln(os.Stderr, "zonegen:", err)
		os.Exit(1)
	}
	fmt.Printf("%d zones, %d files, %d records, %.1f MB\n", st.Zones, st.Files, st.Records, float64(st.Bytes)/1e6)
}
