package gdnsdimport

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current translation")

// TestGolden translates testdata/gdnsd, a production-shaped gdnsd
// directory (gdnsd 3.8.1 checkconf accepts it), and compares every file
// written and the report with testdata/golden. Absolute paths are written
// GDNSD_DIR and DB_DIR there.
func TestGolden(t *testing.T) {
	dbDir := filepath.Join("..", "..", "config", "geoip")
	tr, res, err := translateDir(Options{From: "testdata/gdnsd", GeoIPDBDir: dbDir})
	if err != nil {
		t.Fatal(err)
	}
	absDB, _ := filepath.Abs(dbDir)
	clean := strings.NewReplacer(tr.from, "GDNSD_DIR", absDB, "DB_DIR")
	got := map[string]string{"notes.txt": clean.Replace(strings.Join(noteLines(res.Notes), "\n") + "\n")}
	for name, data := range tr.files {
		got[name] = clean.Replace(string(data))
	}
	dir := filepath.Join("testdata", "golden")
	if *update {
		os.RemoveAll(dir)
		for name, data := range got {
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(names)
	if len(names) != len(got) {
		t.Errorf("golden files %v, translation wrote %d files", names, len(got))
	}
	for _, name := range names {
		want, _ := os.ReadFile(filepath.Join(dir, name))
		if got[name] != string(want) {
			t.Errorf("%s differs from testdata/golden (go test -run TestGolden -update rewrites it):\n%s", name, got[name])
		}
	}
}

// TestFixtureAccepted writes the golden fixture's translation and has
// authdns check it as checkconf does.
func TestFixtureAccepted(t *testing.T) {
	to := filepath.Join(t.TempDir(), "out")
	res, err := Import(Options{From: "testdata/gdnsd", To: to, GeoIPDBDir: filepath.Join("..", "..", "config", "geoip")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() {
		t.Fatalf("not accepted: %v\n%s", res.CheckErr, strings.Join(noteLines(res.Notes), "\n"))
	}
}
