package authdns

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// genZones writes zones zone0.example … holding records A records in all,
// plus a geoip.yaml with one map, into a data directory.
func genZones(b *testing.B, dir string, zones, records int) {
	b.Helper()
	writeData(b, dir, 1, "")
	for z := 0; z < zones; z++ {
		var sb strings.Builder
		name := fmt.Sprintf("zone%d.example", z)
		fmt.Fprintf(&sb, "$TTL 300\n@ IN SOA ns1.%s. hostmaster.%s. 1 7200 1800 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n", name, name)
		for i := 0; i < records/zones; i++ {
			fmt.Fprintf(&sb, "h%d IN A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
		}
		if err := os.WriteFile(filepath.Join(dir, "zones", name), []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReload100k is a full reload (config, 100k records in 10 zones,
// GeoIP map, admin_state, validation, swap) of a running daemon.
func BenchmarkReload100k(b *testing.B) {
	dir := b.TempDir()
	genZones(b, filepath.Join(dir, "data"), 10, 100000)
	os.WriteFile(filepath.Join(dir, "authdns.yaml"), []byte("listen: [\"127.0.0.1:0\"]\ndata: data\nudp_sockets: 1\ncontrol: off\n"), 0o644)
	benchReloads(b, dir)
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/reload")
}

// benchReloads starts the daemon of dir/authdns.yaml and times b.N full
// reloads of it; the daemon runs until the benchmark ends.
func benchReloads(b *testing.B, dir string) *Daemon {
	d := startDaemonAt(b, filepath.Join(dir, "authdns.yaml"), quietLog())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Reload(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	return d
}
