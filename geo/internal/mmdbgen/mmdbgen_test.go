package mmdbgen

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"
)

func TestParseCSVErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"bad header", "net,cont\n", "x.csv:1: header must be"},
		{"host bits", Header + "\n10.0.0.1/8,EU,NL,,,,\n", "x.csv:2: network 10.0.0.1/8 has host bits set"},
		{"bad network", Header + "\n# comment\nnope,EU,NL,,,,\n", "x.csv:3: network:"},
		{"half location", Header + "\n10.0.0.0/8,EU,NL,,,1.5,\n", "x.csv:2: latitude and longitude"},
		{"latitude range", Header + "\n10.0.0.0/8,EU,NL,,,95,1\n", "x.csv:2: latitude"},
		{"field count", Header + "\n10.0.0.0/8,EU\n", "x.csv:2: 2 fields, want 7"},
		{"empty", "", "empty file"},
	} {
		_, err := ParseCSV(strings.NewReader(tc.text), "x.csv")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	text := Header + "\n192.0.2.64/26,EU,FR,IDF|75,Paris,48.8566,2.3522\n2001:db8::/32,AN,AQ,,,,\n127.0.0.0/8,NA,US,VA,Ashburn,39,-77\n"
	rows, err := ParseCSV(strings.NewReader(text), "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := Write(&a, rows, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, rows, Options{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same rows, different bytes")
	}
	db, err := maxminddb.OpenBytes(a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !strings.Contains(db.Metadata.DatabaseType, "City") {
		t.Errorf("type %q", db.Metadata.DatabaseType)
	}
	var rec struct {
		Continent struct {
			Code string `maxminddb:"code"`
		} `maxminddb:"continent"`
		Subdivisions []struct {
			ISOCode string `maxminddb:"iso_code"`
		} `maxminddb:"subdivisions"`
		City struct {
			Names map[string]string `maxminddb:"names"`
		} `maxminddb:"city"`
		Location struct {
			Latitude float64 `maxminddb:"latitude"`
		} `maxminddb:"location"`
	}
	res := db.Lookup(netip.MustParseAddr("192.0.2.70"))
	if err := res.Decode(&rec); err != nil {
		t.Fatal(err)
	}
	if rec.Continent.Code != "EU" || len(rec.Subdivisions) != 2 || rec.Subdivisions[1].ISOCode != "75" || rec.City.Names["en"] != "Paris" || rec.Location.Latitude != 48.8566 || res.Prefix().String() != "192.0.2.64/26" {
		t.Errorf("record %+v prefix %s", rec, res.Prefix())
	}
	// Reserved space (loopback, documentation) is accepted.
	if !db.Lookup(netip.MustParseAddr("127.0.0.1")).Found() {
		t.Error("127.0.0.1 not found")
	}
	if !db.Lookup(netip.MustParseAddr("2001:db8::1")).Found() {
		t.Error("2001:db8::1 not found")
	}
}
