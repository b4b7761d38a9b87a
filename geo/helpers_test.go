package geo

import (
	"bytes"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/geo/internal/mmdbgen"
	"github.com/geotraffic/geotraffic/internal/conf"
)

// row builds a DB row: "net cont country subs(|-separated) city" with
// optional lat, lon.
func row(network, cont, country, subs, city string, latlon ...float64) mmdbgen.Row {
	r := mmdbgen.Row{Network: netip.MustParsePrefix(network), Continent: cont, Country: country, City: city}
	if subs != "" {
		r.Subdivisions = strings.Split(subs, "|")
	}
	if len(latlon) == 2 {
		r.Lat, r.Lon, r.HasLocation = latlon[0], latlon[1], true
	}
	return r
}

// writeDB writes rows as an MMDB named name in dir.
func writeDB(t testing.TB, dir, name, dbType string, rows []mmdbgen.Row) string {
	t.Helper()
	var buf bytes.Buffer
	if err := mmdbgen.Write(&buf, rows, mmdbgen.Options{DatabaseType: dbType}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// parseYAML parses text as a geoip section named test.yaml in dir.
func parseYAML(t testing.TB, dir, text string) (*Config, error) {
	t.Helper()
	doc, err := conf.DecodeYAML("test.yaml", []byte(text))
	if err != nil {
		t.Fatalf("bad test YAML: %v", err)
	}
	return ParseConfig("test.yaml", doc, dir)
}

// logBuffer returns a logger writing text to buf.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// mustGeo writes rows (if any) as db.mmdb (City type) and builds text.
func mustGeo(t testing.TB, text string, rows ...mmdbgen.Row) *Geo {
	t.Helper()
	dir := t.TempDir()
	if len(rows) > 0 {
		writeDB(t, dir, "db.mmdb", "Test-City", rows)
	}
	cfg, err := parseYAML(t, dir, text)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	g, err := Build(cfg, nil)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return g
}

// lookupStr returns "PREFIX => dc, dc" for addr in map m.
func lookupStr(t testing.TB, g *Geo, m, addr string) string {
	t.Helper()
	p, dcs, err := g.LookupMap(m, netip.MustParseAddr(addr))
	if err != nil {
		t.Fatalf("lookup %s: %v", addr, err)
	}
	return strings.TrimPrefix(FormatLookup(m, p, dcs), m+" => ")
}

// fakeHealth marks "resource/dc" keys down; "*/dc" for every resource.
type fakeHealth map[string]bool

func (h fakeHealth) down(res, dc string) bool { return h[res+"/"+dc] || h["*/"+dc] }

// apply is h as g's Monitored, as ApplyHealth would build it from
// monitor states.
func (h fakeHealth) apply(g *Geo) *Monitored {
	m := g.ApplyHealth(nil, nil)
	for _, r := range g.all {
		for j, dc := range r.dcs {
			if !h.down(r.name, dc) {
				continue
			}
			if t := r.targets[j]; t.ref != nil && !t.ref.meta() {
				m.leaf[t.ref.idx].down = true
			} else {
				m.res[r.idx][j].down = true
			}
		}
	}
	return m
}
