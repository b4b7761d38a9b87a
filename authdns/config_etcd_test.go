package authdns

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEtcdConfigKeys(t *testing.T) {
	const head = "listen: [\"127.0.0.1:53\"]\nzones: z\n"
	tests := []struct {
		name, yaml, err string
		want            *EtcdConfig
	}{
		{"absent means no etcd", head, "", nil},
		{"defaults and relative paths", head + "etcd:\n  endpoints: [\"http://127.0.0.1:2379\", \"etcd1:2379\"]\n  cacert: ca.pem\n  cert: /abs/c.pem\n  key: k.pem\n  user: authdns\n  password_file: secret/pw\n", "",
			&EtcdConfig{Endpoints: []string{"http://127.0.0.1:2379", "etcd1:2379"}, Prefix: "/conftool/v1",
				CACert: "/etc/x/ca.pem", Cert: "/abs/c.pem", Key: "/etc/x/k.pem", User: "authdns", PasswordFile: "/etc/x/secret/pw"}},
		{"prefix normalised", head + "etcd: {endpoints: [\"https://[::1]:2379\"], prefix: /other/v2/}\n", "",
			&EtcdConfig{Endpoints: []string{"https://[::1]:2379"}, Prefix: "/other/v2"}},
		{"unknown key", head + "etcd:\n  endpoints: [\"127.0.0.1:2379\"]\n  timeout: 3s\n", "/etc/x/authdns.yaml:5: etcd.timeout: unknown key", nil},
		{"no endpoints", head + "etcd:\n  prefix: /conftool/v1\n", "/etc/x/authdns.yaml:4: etcd.endpoints: at least one endpoint is required", nil},
		{"empty endpoints", head + "etcd:\n  endpoints: []\n", "/etc/x/authdns.yaml:4: etcd.endpoints: at least one endpoint is required", nil},
		{"endpoint without a port", head + "etcd: {endpoints: [\"http://etcd1\"]}\n", "/etc/x/authdns.yaml:3: etcd.endpoints: \"http://etcd1\"", nil},
		{"endpoint with a path", head + "etcd: {endpoints: [\"http://etcd1:2379/conftool\"]}\n", "an endpoint has no path", nil},
		{"endpoint with another scheme", head + "etcd: {endpoints: [\"unix://x:1\"]}\n", "scheme \"unix\"", nil},
		{"relative prefix", head + "etcd: {endpoints: [\"127.0.0.1:2379\"], prefix: conftool}\n", "etcd.prefix: want an absolute key prefix", nil},
		{"cert without key", head + "etcd: {endpoints: [\"127.0.0.1:2379\"], cert: c.pem}\n", "etcd: cert and key go together", nil},
		{"user without password_file", head + "etcd: {endpoints: [\"127.0.0.1:2379\"], user: u}\n", "etcd: user and password_file go together", nil},
		{"not a mapping", head + "etcd: http://127.0.0.1:2379\n", "/etc/x/authdns.yaml:3: etcd: want a mapping", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig("/etc/x/authdns.yaml", []byte(tc.yaml))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Etcd, tc.want) {
				t.Errorf("etcd = %+v, want %+v", c.Etcd, tc.want)
			}
		})
	}
}

// The files an etcd: section names are read and checked at start, reload
// and checkconf, without etcd; their content decides whether a reload
// restarts the follower.
func TestLoadEtcdSettings(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	write := func(p, s string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
	}
	write(pw, "s3cret pass\n", 0o600)
	write(filepath.Join(dir, "bad-ca.pem"), "not a certificate", 0o644)
	base := EtcdConfig{Endpoints: []string{"http://127.0.0.1:1"}, Prefix: "/conftool/v1"}
	withPW := base
	withPW.User, withPW.PasswordFile = "authdns", pw

	set, err := loadEtcd(&withPW)
	if err != nil {
		t.Fatal(err)
	}
	if set.client.Password != "s3cret pass" || set.client.User != "authdns" {
		t.Errorf("client settings %+v", set.client)
	}
	again, _ := loadEtcd(&withPW)
	if !set.same(again) {
		t.Error("the same settings and files should keep the follower")
	}
	write(pw, "new password\n", 0o600)
	if changed, err := loadEtcd(&withPW); err != nil || set.same(changed) {
		t.Errorf("a new password should restart the follower (err %v)", err)
	}

	tests := []struct {
		name string
		cfg  func() *EtcdConfig
		err  string
	}{
		{"readable by others", func() *EtcdConfig { write(pw, "x\n", 0o644); return &withPW }, "lets other users read the password"},
		{"missing password file", func() *EtcdConfig {
			c := withPW
			c.PasswordFile = filepath.Join(dir, "nope")
			return &c
		}, "no such file"},
		{"empty password", func() *EtcdConfig { write(pw, "\n", 0o600); return &withPW }, "empty password"},
		{"missing CA", func() *EtcdConfig {
			c := base
			c.CACert = filepath.Join(dir, "nope.pem")
			return &c
		}, "nope.pem"},
		{"CA that is no certificate", func() *EtcdConfig {
			c := base
			c.CACert = filepath.Join(dir, "bad-ca.pem")
			return &c
		}, "etcd CA: " + filepath.Join(dir, "bad-ca.pem") + ": no PEM certificate in it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := loadEtcd(tc.cfg()); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
		})
	}
	if set, err := loadEtcd(nil); set != nil || err != nil {
		t.Errorf("no etcd section: %v %v", set, err)
	}
}

// checkconf validates the etcd settings without etcd: nothing listens on
// the endpoint, and the check passes.
func TestCheckDoesNotContactEtcd(t *testing.T) {
	dir := t.TempDir()
	writeData(t, filepath.Join(dir, "data"), 1, "")
	cfg, err := ParseConfig(filepath.Join(dir, "authdns.yaml"),
		[]byte("listen: [\"127.0.0.1:0\"]\ndata: data\netcd: {endpoints: [\"http://127.0.0.1:1\"]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(cfg, quietLog()); err != nil {
		t.Fatalf("checkconf with etcd down: %v", err)
	}
	cfg.Etcd.CACert = filepath.Join(dir, "missing.pem")
	if _, err := Check(cfg, quietLog()); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Fatalf("a missing etcd CA: %v", err)
	}
}
