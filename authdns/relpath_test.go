package authdns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// relativeTree makes, under the current directory, rel/authdns.yaml with
// `data: data` and rel/dbs/city.mmdb named by a relative geoip2_db.
func relativeTree(t *testing.T, dbDirKey string) {
	t.Helper()
	writeData(t, filepath.Join("rel", "data"), 1, "")
	db, err := os.ReadFile(filepath.Join(repoRoot(), "config", "geoip", "default-city.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join("rel", "dbs"), 0o755)
	if err := os.WriteFile(filepath.Join("rel", "dbs", "city.mmdb"), db, 0o644); err != nil {
		t.Fatal(err)
	}
	geo := strings.Replace(geoYAML(), filepath.Join(repoRoot(), "config", "geoip", "default-city.mmdb"), "city.mmdb", 1)
	os.WriteFile(filepath.Join("rel", "data", "geoip.yaml"), []byte(geo), 0o644)
	os.WriteFile(filepath.Join("rel", "authdns.yaml"), []byte("listen: [\"127.0.0.1:0\"]\ndata: data\n"+dbDirKey), 0o644)
}

// A relative geoip_db_dir (or its default, the config's directory) is
// applied once, whatever the working directory and however the
// configuration file is named.
func TestRelativeGeoIPDBDir(t *testing.T) {
	tests := []struct {
		name, key, cwd, config string
	}{
		{"geoip_db_dir from the parent directory", "geoip_db_dir: dbs\n", ".", "rel/authdns.yaml"},
		{"geoip_db_dir from the config's directory", "geoip_db_dir: dbs\n", "rel", "authdns.yaml"},
		{"geoip_db_dir ./dbs from a sibling", "geoip_db_dir: ./dbs\n", "other", "../rel/authdns.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			relativeTree(t, tc.key)
			os.MkdirAll("other", 0o755)
			t.Chdir(tc.cwd)
			cfg, err := LoadConfig(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			if !filepath.IsAbs(cfg.GeoIPDBDir) || !filepath.IsAbs(cfg.Data) || !filepath.IsAbs(cfg.Control) {
				t.Errorf("paths not absolute: db dir %s, data %s, control %s", cfg.GeoIPDBDir, cfg.Data, cfg.Control)
			}
			if _, err := Check(cfg, quietLog()); err != nil {
				t.Fatalf("checkconf: %v", err)
			}
			if _, err := LoadState(tc.config, quietLog()); err != nil {
				t.Fatalf("daemon load: %v", err)
			}
		})
	}
}

// The rollout validates a data directory with a hand-built Config whose
// GeoIPDBDir comes from --geoip-db-dir as typed, possibly relative.
func TestRelativeGeoIPDBDirHandBuiltConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	relativeTree(t, "")
	base := &Config{File: filepath.Join("rel", "data", "(authdns-update)"), GeoIPDBDir: filepath.Join("rel", "dbs")}
	if _, err := Check(base.WithData(filepath.Join("rel", "data")), quietLog()); err != nil {
		t.Fatal(err)
	}
}
