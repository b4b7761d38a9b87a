package authdns

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
)

// gaugeValue reads one unlabelled series from the daemon's registry.
func gaugeValue(t *testing.T, d *Daemon, name string) (float64, bool) {
	t.Helper()
	mfs, err := d.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) == 1 {
			m := mf.Metric[0]
			if m.Gauge != nil {
				return m.Gauge.GetValue(), true
			}
			return m.Counter.GetValue(), true
		}
	}
	return 0, false
}

// The daemon applies what its follower's watchers deliver, under the file,
// and keeps it through reloads until etcd's settings go away. Views are
// handed to the follower as its watchers would (etcd itself is down here:
// nothing listens on the endpoint; test/authdns runs a real etcd).
func TestDaemonAppliesEtcdViews(t *testing.T) {
	const etcdDown = "etcd: {endpoints: [\"http://127.0.0.1:1\"]}\n"
	d, dir := testDaemon(t, etcdDown)
	const dc1, dc2 = "192.0.2.101", "192.0.2.102"
	want := func(step, ip string) {
		t.Helper()
		if got := askA(t, d, "dyn.example.com."); got != ip {
			t.Fatalf("%s: dyn answers %s, want %s", step, got, ip)
		}
	}
	want("start", dc1)
	f := d.etcd.Load()
	if f == nil {
		t.Fatal("no etcd follower")
	}
	down := etcdstore.View{Revision: 7, Objects: []conftool.Object{etcdObj(conftool.Site, "dc1", `{"state":"down"}`, 7)}}
	f.setView(0, down)
	if d.State().AdminEtcd != nil {
		t.Fatal("applied before every kind was read once")
	}
	want("sites read, admin-state not yet", dc1)
	f.setView(1, etcdstore.View{Revision: 7})
	want("etcd site down", dc2)
	if s := d.State().States()["site/dc1"]; s.State != "DOWN!" || s.Source != "etcd" || s.Key != "/conftool/v1/sites/dc1" || s.Revision != 7 {
		t.Errorf("states: site/dc1 %+v", s)
	}
	st := d.Status()
	if st.Etcd == nil || st.Etcd.Connected || st.Etcd.Entries != 1 || st.AdminStateEntries != 0 {
		t.Errorf("status: %+v etcd %+v", st, st.Etcd)
	}
	if v, ok := gaugeValue(t, d, "authdns_etcd_connected"); !ok || v != 0 {
		t.Errorf("authdns_etcd_connected = %v (present %v), want 0", v, ok)
	}

	// The local file overrides etcd for the same key, and stops when its
	// line goes.
	admin := filepath.Join(dir, "data", "admin_state")
	for _, step := range []struct{ file, want string }{{"site/dc1 => UP\n", dc1}, {"", dc2}} {
		if err := os.WriteFile(admin, []byte(step.file), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := d.admin.Reload(); err != nil {
			t.Fatal(err)
		}
		want("file "+step.file, step.want)
	}

	// A reload with the same settings keeps the follower and its state.
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if d.etcd.Load() != f {
		t.Error("a reload with the same etcd settings restarted the follower")
	}
	want("reloaded", dc2)

	// New settings: a new follower; etcd's last state stays until it has
	// read etcd, and the old follower no longer applies anything.
	cfgPath := filepath.Join(dir, "authdns.yaml")
	writeCfg := func(extra string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte("listen: [\"127.0.0.1:0\"]\ndata: data\nudp_sockets: 1\n"+extra), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := d.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("etcd: {endpoints: [\"http://127.0.0.1:1\"], prefix: /other}\n")
	f2 := d.etcd.Load()
	if f2 == f || f2 == nil || f2.set.cfg.Prefix != "/other" {
		t.Fatalf("follower after new settings: %v", f2)
	}
	want("new settings, not read yet", dc2)
	f.setView(0, etcdstore.View{Revision: 9})
	want("the old follower's update", dc2)
	f2.setView(0, etcdstore.View{Revision: 3})
	f2.setView(1, etcdstore.View{Revision: 3})
	want("the new follower read an empty etcd", dc1)
	f2.setView(0, down)
	want("the new follower's site down", dc2)

	// A rollout's state is built from files alone; its commit keeps
	// applying etcd's state.
	res, err := d.Stage(bundleOf(t, 2, ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(res.ID); err != nil {
		t.Fatal(err)
	}
	want("committed", dc2)

	// Without `etcd:` nothing from etcd applies.
	writeCfg("")
	want("etcd section removed", dc1)
	if d.etcd.Load() != nil || d.Status().Etcd != nil {
		t.Error("a follower is still reported without an etcd section")
	}
	if _, ok := gaugeValue(t, d, "authdns_etcd_connected"); ok {
		t.Error("authdns_etcd_connected exported without etcd")
	}
}
