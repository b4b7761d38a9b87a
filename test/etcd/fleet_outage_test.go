package etcde2e

import (
	"strings"
	"syscall"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// With etcd stopped every daemon keeps answering with the last state and
// reports itself disconnected; a change made once etcd is back is applied.
func TestFleetEtcdOutage(t *testing.T) {
	f := startFleet(t, 2)
	if r := f.confctl("--object-type", "site", "select", "name=esams", "set/state=down"); r.code != 0 {
		t.Fatalf("site down: %s", r)
	}
	f.waitEU(drmrsAddr)
	testutil.WaitFor(t, "/routes avoiding esams", func() bool { return f.routesAvoid("esams") })

	f.etcd.Stop()
	for _, s := range f.authdns {
		testutil.WaitFor(t, s.name+" reporting etcd disconnected", func() bool {
			return metric(t, "http://"+s.metrics+"/metrics", "authdns_etcd_connected") == 0
		})
	}
	testutil.WaitFor(t, "lvsd reporting etcd disconnected", func() bool {
		return metric(t, f.lvsAPI+"/metrics", `lvsd_etcd_connected{service="apache2_80"}`) == 0
	})
	testutil.WaitFor(t, "trafficctl reporting etcd disconnected", func() bool {
		return metric(t, f.routes+"/metrics", `geotraffic_routing_etcd_connected{prefix="/conftool/v1/sites/"}`) == 0
	})
	f.waitEU(drmrsAddr)
	if !f.routesAvoid("esams") {
		t.Error("with etcd down /routes forgot that esams is down")
	}
	if _, body := httpGet(t, f.lvsAPI+"/pools/apache2_80"); strings.Count(body, "enabled/up/pooled") != 4 {
		t.Errorf("with etcd down lvsd's pool changed:\n%s", body)
	}
	if code, body := httpGet(t, f.lvsAPI+"/alerts"); !strings.Contains(body, "unreachable") {
		t.Errorf("/alerts with etcd down (%d): %s", code, body)
	}

	f.etcd.Restart(t)
	if r := f.confctl("--object-type", "site", "select", "name=esams", "set/state=up"); r.code != 0 {
		t.Fatalf("site up: %s", r)
	}
	f.waitEU(esamsAddr)
	testutil.WaitFor(t, "routes through esams again", func() bool { return !f.routesAvoid("esams") })
	// Each watched prefix reconnects on its own backoff, so the change
	// seen under one prefix does not mean the other is back yet.
	for _, s := range f.authdns {
		testutil.WaitFor(t, s.name+" reporting etcd connected again", func() bool {
			return metric(t, "http://"+s.metrics+"/metrics", "authdns_etcd_connected") == 1
		})
	}
}

// A watcher that falls behind a compaction re-lists and loses nothing. The
// authdns is stopped (SIGSTOP) while enough events pile up that etcd gives
// up streaming to it, the history is compacted, and a last change is made;
// once resumed it must re-list and apply that change.
func TestFleetCompactionWhileBehind(t *testing.T) {
	f := startFleet(t, 1)
	s := f.authdns[0]
	cli := f.etcd.Client(t)
	s.Signal(syscall.SIGSTOP)
	resumed := false
	defer func() {
		if !resumed {
			s.Signal(syscall.SIGCONT)
		}
	}()
	// Large values fill the stream's flow-control window and etcd's
	// per-watcher buffer; they are garbage, so they change no state.
	filler := strings.Repeat("x", 64<<10)
	for range 400 {
		put(t, cli, "/conftool/v1/sites/zz-filler", filler)
	}
	rev := put(t, cli, "/conftool/v1/sites/esams", `{"state":"down"}`)
	f.etcd.Compact(t, rev)
	s.Signal(syscall.SIGCONT)
	resumed = true
	f.waitEU(drmrsAddr)
	s.WaitLog(0, "watch fell behind a compaction; re-listing")
	testutil.WaitFor(t, "a re-list", func() bool {
		return metric(t, "http://"+s.metrics+"/metrics", "authdns_etcd_relists_total") >= 1
	})
}
