// Command mkmmdb builds a City-shaped MaxMind database from a CSV
// (network,continent,country,subdivisions,city,latitude,longitude), e.g. the
// repository's default GeoIP database: `make geoip-db`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/geotraffic/geotraffic/geo/internal/mmdbgen"
	"github.com/geotraffic/geotraffic/internal/version"
)

func main() {
	in := flag.String("in", "config/geoip/default-city.csv", "input CSV ("+mmdbgen.Header+")")
	out := flag.String("out", "config/geoip/default-city.mmdb", "output MMDB, replaced atomically")
	dbType := flag.String("type", "GeoTraffic-Default-City", "database_type metadata (keep \"City\" in it for city-level maps)")
	ipv := flag.Int("ip-version", 6, "4 or 6; a version 6 database also answers IPv4")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: mkmmdb [-in CSV] [-out MMDB] [-type TYPE] [-ip-version 4|6]\n\n"+
			"Writes a City-shaped MaxMind DB from CSV rows. Same input, same bytes.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	if err := run(*in, *out, *dbType, *ipv); err != nil {
		fmt.Fprintln(os.Stderr, "mkmmdb:", err)
		os.Exit(1)
	}
}

func run(in, out, dbType string, ipv int) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := mmdbgen.ParseCSV(f, in)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := mmdbgen.Write(&buf, rows, mmdbgen.Options{DatabaseType: dbType, IPVersion: ipv}); err != nil {
		return err
	}
	// Write then rename: readers mmap the file, so never rewrite it in place.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".mkmmdb-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Printf("mkmmdb: %d networks from %s -> %s (%d bytes)\n", len(rows), in, out, buf.Len())
	return nil
}
