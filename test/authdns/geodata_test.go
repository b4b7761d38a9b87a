package authdnse2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// mkmmdb builds a City database from csv with the project's own
// generator (geo/internal/mkmmdb) and returns its bytes.
func mkmmdb(t *testing.T, csv string) []byte {
	t.Helper()
	dir := t.TempDir()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	in, out := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.mmdb")
	os.WriteFile(in, []byte(csv), 0o644)
	cmd := exec.Command(gobin, "run", "./geo/internal/mkmmdb", "-in", in, "-out", out)
	cmd.Dir = repoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkmmdb: %v\n%s", err, b)
	}
	db, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// sighup reloads s and waits for the reload to be logged as complete.
func (s *server) sighup() {
	s.t.Helper()
	mark := len(s.Logs())
	s.Signal(syscall.SIGHUP)
	s.WaitLog(mark, "reload complete")
}

func firstA(t *testing.T, addr, subnet string) string {
	t.Helper()
	r, err := ask(addr, "udp", "www.example.org.", dns.TypeA, subnet)
	if err != nil || len(r.Answer) == 0 {
		t.Fatalf("www from %s: %v %v", subnet, r, err)
	}
	return r.Answer[0].(*dns.A).A.String()
}

// A reload rereads the GeoIP database and the nets files: changing either
// file on disk changes answers after the reload, and not before, with no
// query lost meanwhile.
func TestReloadRereadsGeoIPDatabaseAndNetsFile(t *testing.T) {
	s := startServer(t)
	// Serve a local copy of the database and a nets file.
	csv, err := os.ReadFile(filepath.Join(repoRoot(), "config", "geoip", "default-city.csv"))
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(s.dir, "city.mmdb")
	orig, _ := os.ReadFile(filepath.Join(repoRoot(), "config", "geoip", "default-city.mmdb"))
	os.WriteFile(db, orig, 0o644)
	geoFile := filepath.Join(s.dir, "geoip.yaml")
	geo, _ := os.ReadFile(geoFile)
	inline := "    nets:\n      10.0.0.0/8: [eqiad, codfw]\n      10.192.0.0/12: [codfw, eqiad]\n      fd00:10::/32: [esams, drmrs]\n"
	if !strings.Contains(string(geo), inline) {
		t.Fatal("config/geoip.yaml changed: update this test's nets block")
	}
	g := strings.Replace(string(geo), inline, "    nets: nets.yaml\n", 1)
	g = strings.Replace(g, "geoip2_db: "+filepath.Join(repoRoot(), "config", "geoip", "default-city.mmdb"), "geoip2_db: city.mmdb", 1)
	os.WriteFile(geoFile, []byte(g), 0o644)
	nets := filepath.Join(s.dir, "nets.yaml")
	os.WriteFile(nets, []byte("10.0.0.0/8: [eqiad, codfw]\n"), 0o644)
	s.sighup()

	const sf, ten = "198.51.100.0/26", "10.1.0.0/24"
	if got := firstA(t, s.addr, sf); got != "198.51.100.226" {
		t.Fatalf("San Francisco: %s, want ulsfo", got)
	}
	if got := firstA(t, s.addr, ten); got != "198.51.100.224" {
		t.Fatalf("10/8: %s, want eqiad", got)
	}
	l := startLoad(s.addr, "www.example.org.", dns.TypeA, sf)

	// The database now places 198.51.100.0/26 in Amsterdam.
	moved := strings.Replace(string(csv), "198.51.100.0/26,NA,US,CA,San Francisco,37.7749,-122.4194",
		"198.51.100.0/26,EU,NL,NH,Amsterdam,52.3676,4.9041", 1)
	if moved == string(csv) {
		t.Fatal("default-city.csv changed: update this test's San Francisco row")
	}
	testutil.WriteAtomic(t, db, string(mkmmdb(t, moved)))
	if got := firstA(t, s.addr, sf); got != "198.51.100.226" {
		t.Errorf("the database changed answers before any reload: %s", got)
	}
	s.sighup()
	if got := firstA(t, s.addr, sf); got != "192.0.2.224" {
		t.Errorf("after the database reload: %s, want esams 192.0.2.224", got)
	}

	// The nets file now sends 10/8 to esams first.
	testutil.WriteAtomic(t, nets, "10.0.0.0/8: [esams, eqiad]\n")
	if got := firstA(t, s.addr, ten); got != "198.51.100.224" {
		t.Errorf("the nets file changed answers before any reload: %s", got)
	}
	s.sighup()
	if got := firstA(t, s.addr, ten); got != "192.0.2.224" {
		t.Errorf("after the nets reload: %s, want esams 192.0.2.224", got)
	}
	l.finish(t)
}
