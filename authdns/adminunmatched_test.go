package authdns

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/admin_state"
	"github.com/geotraffic/geotraffic/internal/statuspage"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

func TestUnmatchedAdmin(t *testing.T) {
	dir := t.TempDir()
	writeData(t, dir, 1, "")
	cfg, err := LoadConfig(writeConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	g, err := LoadGeo(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	file, err := adminstate.Parse("admin_state", []byte(strings.Join([]string{
		"site/dc1 => DOWN",    // a site
		"geoip/m/dc2 => DOWN", // a map's DC
		"geoip/r/dc* => UP",   // a glob over a resource's DCs
		"site/eqaid => DOWN",  // a typo
		"geoip/*/dc3 => DOWN", // a glob matching no DC
		"192.0.2.9/up => UP",  // an address nothing monitors
	}, "\n")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"admin_state:4: site/eqaid", "admin_state:5: geoip/*/dc3", "admin_state:6: 192.0.2.9/up"}
	if got := unmatchedAdmin(g, file); !slices.Equal(got, want) {
		t.Errorf("unmatched %q, want %q", got, want)
	}
	etcd, err := adminstate.ParseValue("site/dcx", "DOWN")
	if err != nil {
		t.Fatal(err)
	}
	etcd.Source, etcd.Key, etcd.Revision = "etcd", "/conftool/v1/sites/dcx", 7
	both := adminstate.Overlay(&adminstate.State{Entries: []adminstate.Entry{etcd}, Digest: "x"}, file)
	if got := unmatchedAdmin(g, both); len(got) != 4 || got[0] != "etcd /conftool/v1/sites/dcx@7: site/dcx" {
		t.Errorf("with an etcd object: %q", got)
	}
	if got := unmatchedAdmin(nil, file); len(got) != 6 {
		t.Errorf("without geoip every entry matches nothing, got %q", got)
	}
}

// writeConfig writes authdns.yaml serving the data directory dir.
func writeConfig(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "authdns.yaml")
	if err := os.WriteFile(path, []byte("listen: [\"127.0.0.1:0\"]\ndata: .\nudp_sockets: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A running daemon warns once about an admin_state entry that matches
// nothing, shows it in its status and alerts and counts it, and stops
// when the line is fixed.
func TestDaemonWarnsAboutUnmatchedAdminState(t *testing.T) {
	dir := t.TempDir()
	writeData(t, dir, 1, "")
	var log testutil.SyncBuffer
	d := startDaemonAt(t, writeConfig(t, dir), slog.New(slog.NewTextHandler(&log, nil)))
	admin := filepath.Join(dir, "admin_state")
	const warning = "admin_state: entry matches nothing"

	replaceFile(t, admin, "site/eqaid => DOWN\n")
	testutil.WaitFor(t, "the typo's warning", func() bool { return strings.Contains(log.String(), warning) })
	if !strings.Contains(log.String(), `entry="`+admin+`:1: site/eqaid"`) {
		t.Errorf("the warning does not name the line:\n%s", log.String())
	}
	if got := d.Status().AdminStateUnmatched; !slices.Equal(got, []string{admin + ":1: site/eqaid"}) {
		t.Errorf("status admin_state_unmatched = %q", got)
	}
	if v, _ := gaugeValue(t, d, "authdns_admin_state_unmatched_entries"); v != 1 {
		t.Errorf("authdns_admin_state_unmatched_entries = %v", v)
	}
	alerts := statusAlerts(statusView{Status: d.Status()})
	if !slices.ContainsFunc(alerts, func(a statuspage.Alert) bool { return strings.Contains(a.Text, "site/eqaid") && a.Level == "warning" }) {
		t.Errorf("alerts %+v", alerts)
	}

	// Another change keeps the typo: it is not warned about again.
	replaceFile(t, admin, "site/eqaid => DOWN\nsite/dc1 => DOWN\n")
	testutil.WaitFor(t, "the second line", func() bool { return d.State().Admin.Len() == 2 })
	if n := strings.Count(log.String(), warning); n != 1 {
		t.Errorf("%d warnings for one unmatched line, want 1:\n%s", n, log.String())
	}

	replaceFile(t, admin, "site/dc2 => DOWN\n")
	testutil.WaitFor(t, "the fixed file", func() bool { return len(d.State().AdminUnmatched) == 0 })
	if v, _ := gaugeValue(t, d, "authdns_admin_state_unmatched_entries"); v != 0 {
		t.Errorf("authdns_admin_state_unmatched_entries after the fix = %v", v)
	}
}
