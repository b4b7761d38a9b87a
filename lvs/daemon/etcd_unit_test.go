package daemon

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/internal/conf"
	"github.com/geotraffic/geotraffic/internal/testtls"
	"github.com/geotraffic/geotraffic/lvs/config"
)

func TestViewDecision(t *testing.T) {
	tests := []struct {
		name    string
		applied bool
		last    int
		listed  bool
		n       int
		apply   bool
		held    string
	}{
		{"first view with nodes", false, 0, true, 3, true, ""},
		{"first view empty", false, 0, true, 0, false, "has no node with pooled yes or no"},
		{"events down to nothing: a real change", true, 3, false, 0, true, ""},
		{"full read finding nothing where there were servers", true, 3, true, 0, false, "where there were 3; keeping the last pool"},
		{"full read of an already empty pool", true, 0, true, 0, true, ""},
		{"full read with nodes", true, 3, true, 2, true, ""},
	}
	for _, tc := range tests {
		apply, held := viewDecision(tc.applied, tc.last, tc.listed, tc.n)
		if apply != tc.apply || (tc.held == "") != (held == "") || !strings.Contains(held, tc.held) {
			t.Errorf("%s: apply %v held %q, want %v %q", tc.name, apply, held, tc.apply, tc.held)
		}
	}
}

// [global]'s etcd keys: files are read and checked at load (errors name the
// key's line), the password comes from its file or the environment, and
// the fingerprint moves with any content, so a reload sees a rotation.
func TestLoadEtcdClient(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := testtls.NewCA(t, "etcd.test")
	caPath := ca.WriteCA(t, dir, "ca.pem")
	certPath, keyPath := ca.WriteServer(t, dir, "client", net.ParseIP("127.0.0.1"))
	pw := write("pw", "secret\n")
	pos := map[string]conf.Pos{}
	for i, k := range []string{"etcd-cacert", "etcd-cert", "etcd-key", "etcd-user", "etcd-password-file"} {
		pos[k] = conf.Pos{File: "pybal.conf", Line: i + 2}
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == PasswordEnv {
				return v
			}
			return ""
		}
	}
	full := config.EtcdSettings{CACert: caPath, Cert: certPath, Key: keyPath, User: "lvsd", PasswordFile: pw, Pos: pos}
	tests := []struct {
		name string
		s    config.EtcdSettings
		env  string
		want etcdstore.ClientConfig
		err  string
	}{
		{"nothing", config.EtcdSettings{}, "", etcdstore.ClientConfig{}, ""},
		{"everything", full, "ignored", etcdstore.ClientConfig{CACert: caPath, Cert: certPath, Key: keyPath, User: "lvsd", Password: "secret"}, ""},
		{"password from the environment", config.EtcdSettings{User: "lvsd", Pos: pos}, "envsecret", etcdstore.ClientConfig{User: "lvsd", Password: "envsecret"}, ""},
		{"no password", config.EtcdSettings{User: "lvsd", Pos: pos}, "", etcdstore.ClientConfig{}, "pybal.conf:5: etcd-user: no password: set etcd-password-file or LVSD_ETCD_PASSWORD"},
		{"missing CA", config.EtcdSettings{CACert: caPath + ".x", Pos: pos}, "", etcdstore.ClientConfig{}, "pybal.conf:2: etcd-cacert: open "},
		{"CA not PEM", config.EtcdSettings{CACert: pw, Pos: pos}, "", etcdstore.ClientConfig{}, "pybal.conf:2: etcd-cacert: " + pw + ": no PEM certificate in it"},
		{"key not matching", config.EtcdSettings{Cert: certPath, Key: caPath, Pos: pos}, "", etcdstore.ClientConfig{}, "pybal.conf:3: etcd-cert: "},
	}
	for _, tc := range tests {
		got, err := loadEtcdClient(tc.s, env(tc.env))
		if tc.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got.Config, tc.want) || got.Fingerprint == "" {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	a, _ := loadEtcdClient(full, env(""))
	write("pw", "rotated\n")
	b, _ := loadEtcdClient(full, env(""))
	if a.Fingerprint == b.Fingerprint {
		t.Error("a new password file content leaves the fingerprint unchanged")
	}
	// TLS material goes to etcds:// only.
	if c := b.For([]string{"http://h:2379"}, false); c.CACert != "" || c.Cert != "" || c.User != "lvsd" || c.Endpoints[0] != "http://h:2379" {
		t.Errorf("plain: %+v", c)
	}
	if c := b.For([]string{"https://h:2379"}, true); c.CACert != caPath || c.Key != keyPath {
		t.Errorf("TLS: %+v", c)
	}
}

// Services on one endpoint set share one client, which goes when the last
// lets it go (creating a client without a user does not contact etcd).
func TestEtcdClientsShared(t *testing.T) {
	cs := newEtcdClients()
	cfg := etcdstore.ClientConfig{Endpoints: []string{"http://127.0.0.1:9"}}
	log := slog.New(slog.DiscardHandler)
	a, relA := cs.acquire(t.Context(), cfg, "fp", log)
	b, relB := cs.acquire(t.Context(), cfg, "fp", log)
	other := cfg
	other.Endpoints = []string{"http://127.0.0.2:9"}
	c, relC := cs.acquire(t.Context(), other, "fp", log)
	if a != b || a == c || cs.count() != 2 {
		t.Errorf("shared %v, distinct %v, %d clients", a == b, a != c, cs.count())
	}
	relA()
	relA() // a second call does nothing
	if cs.count() != 2 {
		t.Errorf("released while still used: %d clients", cs.count())
	}
	relB()
	relC()
	if cs.count() != 0 {
		t.Errorf("%d clients after every release", cs.count())
	}
}
