package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestRunWritesTheCommittedDB(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.mmdb")
	if err := run("../../../config/geoip/default-city.csv", out, "GeoTraffic-Default-City", 6); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../../config/geoip/default-city.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("mkmmdb output differs from the committed database: run `make geoip-db`")
	}
	if err := run("nope.csv", out, "x", 6); err == nil {
		t.Error("missing input: no error")
	}
}
