// Package mmdbgen writes small City-shaped MaxMind databases from rows (or a
// CSV of rows) with mmdbwriter: the repository's default GeoIP database and
// the fixtures of the geo tests are made with it, so both stay reproducible.
package mmdbgen

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Row is one network and its location. Empty fields are left out of the
// record, so a row can model a DB entry without a city or coordinates.
type Row struct {
	Network      netip.Prefix
	Continent    string   // continent.code
	Country      string   // country.iso_code
	Subdivisions []string // subdivisions[i].iso_code, largest first
	City         string   // city.names.en
	Lat, Lon     float64
	HasLocation  bool
}

// Options shape the output. BuildEpoch is fixed by default so the same rows
// always give the same bytes (the committed database is checked for drift).
type Options struct {
	DatabaseType string // default "GeoTraffic-Default-City"
	IPVersion    int    // 4 or 6 (default)
	BuildEpoch   int64  // default 1735689600 (2025-01-01)
}

// Header is the CSV header line ParseCSV expects.
const Header = "network,continent,country,subdivisions,city,latitude,longitude"

// ParseCSV reads rows in the Header format. Lines starting with '#' are
// comments; subdivisions are separated by '|'; latitude and longitude are
// both set or both empty. Errors name name:line.
func ParseCSV(r io.Reader, name string) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1 // checked below, with the line number
	cr.TrimLeadingSpace = true
	var rows []Row
	var errs []error
	first := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if first {
			first = false
			if strings.Join(rec, ",") != Header {
				return nil, fmt.Errorf("%s:%d: header must be %q", name, line, Header)
			}
			continue
		}
		if len(rec) != 7 {
			errs = append(errs, fmt.Errorf("%s:%d: %d fields, want 7 (%s)", name, line, len(rec), Header))
			continue
		}
		row, err := parseRecord(rec)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
			continue
		}
		rows = append(rows, row)
	}
	if first {
		return nil, fmt.Errorf("%s: empty file, header %q missing", name, Header)
	}
	return rows, errors.Join(errs...)
}

func parseRecord(rec []string) (Row, error) {
	var row Row
	p, err := netip.ParsePrefix(strings.TrimSpace(rec[0]))
	if err != nil {
		return row, fmt.Errorf("network: %w", err)
	}
	if p != p.Masked() {
		return row, fmt.Errorf("network %s has host bits set (want %s)", p, p.Masked())
	}
	row.Network = p
	row.Continent = strings.TrimSpace(rec[1])
	row.Country = strings.TrimSpace(rec[2])
	if s := strings.TrimSpace(rec[3]); s != "" {
		for _, sub := range strings.Split(s, "|") {
			row.Subdivisions = append(row.Subdivisions, strings.TrimSpace(sub))
		}
	}
	row.City = strings.TrimSpace(rec[4])
	lat, lon := strings.TrimSpace(rec[5]), strings.TrimSpace(rec[6])
	if (lat == "") != (lon == "") {
		return row, errors.New("latitude and longitude must both be set or both be empty")
	}
	if lat != "" {
		if row.Lat, err = strconv.ParseFloat(lat, 64); err != nil || row.Lat < -90 || row.Lat > 90 {
			return row, fmt.Errorf("latitude %q is not a number from -90 to 90", lat)
		}
		if row.Lon, err = strconv.ParseFloat(lon, 64); err != nil || row.Lon < -180 || row.Lon > 180 {
			return row, fmt.Errorf("longitude %q is not a number from -180 to 180", lon)
		}
		row.HasLocation = true
	}
	return row, nil
}

// Write encodes rows as an MMDB. Reserved and documentation networks are
// allowed: the default database lives in exactly that space.
func Write(w io.Writer, rows []Row, o Options) error {
	if o.DatabaseType == "" {
		o.DatabaseType = "GeoTraffic-Default-City"
	}
	if o.IPVersion == 0 {
		o.IPVersion = 6
	}
	if o.BuildEpoch == 0 {
		o.BuildEpoch = 1735689600
	}
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            o.DatabaseType,
		Description:             map[string]string{"en": "geotraffic City-shaped GeoIP database"},
		IPVersion:               o.IPVersion,
		BuildEpoch:              o.BuildEpoch,
		IncludeReservedNetworks: true,
		Languages:               []string{"en"},
		RecordSize:              28,
	})
	if err != nil {
		return fmt.Errorf("mmdbwriter: %w", err)
	}
	for _, row := range rows {
		n := &net.IPNet{IP: row.Network.Addr().AsSlice(), Mask: net.CIDRMask(row.Network.Bits(), row.Network.Addr().BitLen())}
		if err := tree.Insert(n, Record(row)); err != nil {
			return fmt.Errorf("insert %s: %w", row.Network, err)
		}
	}
	if _, err := tree.WriteTo(w); err != nil {
		return fmt.Errorf("write mmdb: %w", err)
	}
	return nil
}

// Record is the City-shaped data of one row, with GeoIP2's field names.
func Record(row Row) mmdbtype.Map {
	m := mmdbtype.Map{}
	if row.Continent != "" {
		m["continent"] = mmdbtype.Map{"code": mmdbtype.String(row.Continent)}
	}
	if row.Country != "" {
		m["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(row.Country)}
	}
	if len(row.Subdivisions) > 0 {
		subs := mmdbtype.Slice{}
		for _, s := range row.Subdivisions {
			subs = append(subs, mmdbtype.Map{"iso_code": mmdbtype.String(s)})
		}
		m["subdivisions"] = subs
	}
	if row.City != "" {
		m["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(row.City)}}
	}
	if row.HasLocation {
		m["location"] = mmdbtype.Map{
			"latitude":  mmdbtype.Float64(row.Lat),
			"longitude": mmdbtype.Float64(row.Lon),
		}
	}
	return m
}
