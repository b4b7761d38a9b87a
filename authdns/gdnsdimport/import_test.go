package gdnsdimport

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// mmdb is the repository's default City database.
func mmdb(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "config", "geoip", "default-city.mmdb")
}

const geoConfig = `# the options
options => {
  listen => 127.0.0.1:5399 # local only
}
plugins => {
  # the geoip plugin
  geoip => {
    maps => { $include{geo-maps} }
    resources => {
      # text
      text-addrs => {
        map => generic-map
        dcmap => {
          eqiad => 192.0.2.1 ; primary
          esams => [ 192.0.2.2, 192.0.2.3 ] # two
        }
      }
    }
  }
}
`

const geoMaps = `generic-map => {
  geoip2_db => default-city.mmdb
  datacenters => [eqiad, esams]
  map => {
    # Europe goes to esams
    EU => [esams, eqiad]
    NA => {
      US => [
        # first
        eqiad,
        esams # second
      ]
    } # end of NA
    # the end of the map
  }
  nets => nets-file
  city_no_region => true
}
`

const zone = `@ SOA ns1 hostmaster 1 7200 1800 259200 900
@ NS ns1
ns1 A 192.0.2.53
www 300 DYNA geoip!text-addrs
`

func geoFiles() map[string]string {
	return map[string]string{
		"config":            geoConfig,
		"geo-maps":          geoMaps,
		"geoip/nets-file":   "# WMF space\n10.0.0.0/8 => [eqiad] ; internal\n\"2001:db8::/32\" => esams\n",
		"zones/example.org": zone,
	}
}

func TestCommentsCarried(t *testing.T) {
	tr, _ := translated(t, geoFiles(), Options{})
	for name, want := range map[string]string{
		"authdns.yaml": `# the options
listen: ["127.0.0.1:5399"] # local only
`,
		"geoip.yaml": `    map:
      # Europe goes to esams
      EU: [esams, eqiad]
      NA: # end of NA
        US:
          # first
          - eqiad
          - esams # second
      # the end of the map
    nets: nets/nets-file
resources:
  # text
  text-addrs:
    map: generic-map
    dcmap:
      eqiad: 192.0.2.1 # primary
      esams: [192.0.2.2, 192.0.2.3] # two
`,
		"nets/nets-file": `# WMF space
10.0.0.0/8: [eqiad] # internal
"2001:db8::/32": esams
`,
	} {
		if !strings.Contains(string(tr.files[name]), want) {
			t.Errorf("%s lacks\n%s\nin\n%s", name, want, tr.files[name])
		}
	}
	// The comments are YAML comments, attached where the decoder expects.
	geo := decoded(t, tr, "geoip.yaml")
	if c := at(t, geo, "maps.generic-map.map").Key("EU").Comment; c != "# Europe goes to esams" {
		t.Errorf("EU's comment: %q", c)
	}
	if c := at(t, geo, "resources.text-addrs.dcmap.esams").Comment; c != "# two" {
		t.Errorf("esams's comment: %q", c)
	}
}

func TestIncludedFileNamedInNotes(t *testing.T) {
	tr, res := translated(t, geoFiles(), Options{})
	hasNote(t, res.Notes, "geo-maps:17: option plugins.geoip.maps.generic-map.city_no_region: error: not translated: a gdnsd 2.x key")
	if strings.Contains(string(tr.files["geoip.yaml"]), "city_no_region") {
		t.Errorf("city_no_region written:\n%s", tr.files["geoip.yaml"])
	}
	want := filepath.Join(tr.from, "geoip", "default-city.mmdb")
	if got := at(t, decoded(t, tr, "geoip.yaml"), "maps.generic-map.geoip2_db").Value; got != want {
		t.Errorf("geoip2_db %s, want %s", got, want)
	}
}

func TestGeoIPDBDir(t *testing.T) {
	tr, _ := translated(t, geoFiles(), Options{GeoIPDBDir: "/srv/geoip"})
	if got := at(t, decoded(t, tr, "geoip.yaml"), "maps.generic-map.geoip2_db").Value; got != "/srv/geoip/default-city.mmdb" {
		t.Errorf("geoip2_db %s", got)
	}
}

func TestImportWritesAndChecks(t *testing.T) {
	files := geoFiles()
	files["geo-maps"] = strings.Replace(files["geo-maps"], "  city_no_region => true\n", "", 1)
	files["zones/sub/www.inc"] = "www2 A 192.0.2.9\n"
	files["zones/example.org"] += "$INCLUDE sub/www.inc\n"
	files["admin_state"] = "geoip/generic-map/esams => DOWN # maintenance\n"
	from := gdnsdDir(t, files)
	if err := os.Symlink("example.org", filepath.Join(from, "zones", "example.net")); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(from, "config"), filepath.Join(from, "zones", ".hidden-out"))
	os.Symlink(mmdb(t), filepath.Join(from, "geoip", "default-city.mmdb"))
	to := filepath.Join(t.TempDir(), "out")
	res, err := Import(Options{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if res.CheckErr != nil || res.Failed() {
		t.Fatalf("not accepted: %v\n%s", res.CheckErr, strings.Join(noteLines(res.Notes), "\n"))
	}
	if res.StateDir != from || !res.AdminState {
		t.Errorf("state dir %s (%s), admin_state copied %v", res.StateDir, res.StateFrom, res.AdminState)
	}
	same := func(a, b string) {
		x, err1 := os.ReadFile(a)
		y, err2 := os.ReadFile(b)
		if err1 != nil || err2 != nil || string(x) != string(y) {
			t.Errorf("%s and %s differ: %v %v", a, b, err1, err2)
		}
	}
	same(filepath.Join(from, "zones", "example.org"), filepath.Join(to, "zones", "example.org"))
	same(filepath.Join(from, "zones", "sub", "www.inc"), filepath.Join(to, "zones", "sub", "www.inc"))
	same(filepath.Join(from, "admin_state"), filepath.Join(to, "admin_state"))
	if l, err := os.Readlink(filepath.Join(to, "zones", "example.net")); err != nil || l != "example.org" {
		t.Errorf("zone alias: %q %v", l, err)
	}
	if fi, err := os.Lstat(filepath.Join(to, "zones", ".hidden-out")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("a symlink out of zones/ must be copied as a file: %v %v", fi, err)
	}
	hasNote(t, res.Notes, "zones/.hidden-out: warning: a symlink to", "its content is copied")
	// Nothing is left beside the output.
	entries, _ := os.ReadDir(filepath.Dir(to))
	if len(entries) != 1 {
		t.Errorf("left beside the output: %v", entries)
	}

	// A second import refuses the non-empty directory, --force replaces it.
	if _, err := Import(Options{From: from, To: to}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty output: %v", err)
	}
	for _, bad := range []string{from, filepath.Join(from, "zones", "out"), filepath.Dir(from)} {
		if _, err := Import(Options{From: from, To: bad, Force: true}); err == nil || !strings.Contains(err.Error(), "overlap") {
			t.Errorf("output %s over the gdnsd directory: %v", bad, err)
		}
	}
	os.WriteFile(filepath.Join(to, "stale"), []byte("x"), 0o644)
	if _, err := Import(Options{From: from, To: to, Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(to, "stale")); !os.IsNotExist(err) {
		t.Errorf("--force kept the old content: %v", err)
	}
}

func TestCheckFailureIsReported(t *testing.T) {
	files := geoFiles()
	files["zones/example.org"] += "api DYNA geoip!no-such-resource\n"
	from := gdnsdDir(t, files)
	os.Symlink(mmdb(t), filepath.Join(from, "geoip", "default-city.mmdb"))
	to := filepath.Join(t.TempDir(), "out")
	res, err := Import(Options{From: from, To: to, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.CheckErr == nil || !strings.Contains(res.CheckErr.Error(), "example.org:5") || !res.Failed() {
		t.Errorf("check: %v", res.CheckErr)
	}
	if _, err := os.Stat(filepath.Join(to, "authdns.yaml")); err != nil {
		t.Errorf("the output is written all the same, to be fixed by hand: %v", err)
	}
}

func TestParseErrorWritesNothing(t *testing.T) {
	files := geoFiles()
	files["geo-maps"] = "generic-map => {\n  datacenters => [eqiad\n  map => }\n}\n"
	from := gdnsdDir(t, files)
	to := filepath.Join(t.TempDir(), "out")
	_, err := Import(Options{From: from, To: to})
	if err == nil || !strings.Contains(err.Error(), "geo-maps:3") {
		t.Fatalf("want an error at geo-maps:3, got %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(to)); len(entries) != 0 {
		t.Errorf("written: %v", entries)
	}
}

func TestStateDirChoice(t *testing.T) {
	for _, tt := range []struct {
		name   string
		files  map[string]string
		o      Options
		dir    string // "" = the gdnsd directory
		reason string
	}{
		{"flag", map[string]string{"config": "options => { state_dir => /srv/state }\n"}, Options{StateDir: "/flag"}, "/flag", "--state-dir"},
		{"option", map[string]string{"config": "options => { state_dir => /srv/state }\n"}, Options{}, "/srv/state", "options.state_dir"},
		{"admin_state beside config", map[string]string{"config": "", "admin_state": ""}, Options{}, "", "admin_state found"},
		{"gdnsd's default", map[string]string{"config": ""}, Options{}, "/var/lib/gdnsd", "gdnsd's default"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.From = gdnsdDir(t, tt.files)
			_, res, err := translateDir(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.dir
			if want == "" {
				want = tt.o.From
			}
			if res.StateDir != want || !strings.Contains(res.StateFrom, tt.reason) {
				t.Errorf("got %s (%s), want %s (%s)", res.StateDir, res.StateFrom, want, tt.reason)
			}
		})
	}
}

func TestNetsFileErrorNamesItsLine(t *testing.T) {
	files := geoFiles()
	files["geoip/nets-file"] = "10.0.0.0/8 => [eqiad]\n10.1.0.0/16 => [eqiad\n"
	_, res := translated(t, files, Options{})
	hasNote(t, res.Notes, "geo-maps:16: option plugins.geoip.maps.generic-map.nets: error: nets file geoip/nets-file:2: ")
}
