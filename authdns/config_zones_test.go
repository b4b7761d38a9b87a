package authdns

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/zones"
)

func TestZoneOptionKeys(t *testing.T) {
	c, err := ParseConfig("/etc/x/authdns.yaml", []byte("listen: [\"127.0.0.1:53\"]\nzones: z\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o := c.ZoneOptions(nil); o.DefaultTTL != zones.DefaultZoneTTL || o.Strict {
		t.Errorf("defaults: %+v", o)
	}
	c, err = ParseConfig("/etc/x/authdns.yaml", []byte("listen: [\"127.0.0.1:53\"]\nzones: z\nzones_default_ttl: 600\nzones_strict_data: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if o := c.ZoneOptions(nil); o.DefaultTTL != 600 || !o.Strict {
		t.Errorf("set: %+v", o)
	}
	for _, bad := range []string{"zones_default_ttl: 0\n", "zones_default_ttl: 1h\n", "zones_strict_data: yes please\n"} {
		key, _, _ := strings.Cut(bad, ":")
		_, err := ParseConfig("/etc/x/authdns.yaml", []byte("listen: [\"127.0.0.1:53\"]\nzones: z\n"+bad))
		if err == nil || !strings.Contains(err.Error(), "/etc/x/authdns.yaml:3: "+key+": want") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

// zones_strict_data refuses what is otherwise a warning.
func TestZonesStrictData(t *testing.T) {
	dir := t.TempDir()
	writeData(t, filepath.Join(dir, "data"), 1, "p IN PTR www\n")
	for _, strict := range []bool{false, true} {
		yaml := "listen: [\"127.0.0.1:53\"]\ndata: data\n"
		if strict {
			yaml += "zones_strict_data: true\n"
		}
		cfg, err := ParseConfig(filepath.Join(dir, "authdns.yaml"), []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Check(cfg, quietLog())
		if strict != (err != nil) || (strict && !strings.Contains(err.Error(), "points into its own zone")) {
			t.Errorf("strict %v: err = %v", strict, err)
		}
	}
}
