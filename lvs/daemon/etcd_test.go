package daemon

import (
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

func number(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return f
}

// Two services on one etcd share its client, and follow every kind of
// conftool change: weight, pooled=no (disabled, out of IPVS), inactive and
// delete (out of the pool), a host coming in; a garbage value leaves its
// node as it was and is reported.
func TestEtcdPoolFollowsConftool(t *testing.T) {
	e := testetcd.Start(t)
	dir := &fakeDirector{}
	conf := etcdConf + "\n[apache2_443]\nprotocol = tcp\nip = 10.2.3.1\nport = 443\nscheduler = wrr\nconfig = etcd://ETCD" + nodeDir + "\n"
	h := startEtcdDaemon(t, e, conf, dir)
	for _, n := range []string{"mw1001", "mw1002", "mw1003", "mw1004"} {
		h.set(t, n+".eqiad.wmnet", 10, "yes")
	}
	h.set(t, "mw1005.eqiad.wmnet", 10, "inactive")
	want := func(s string) {
		t.Helper()
		h.eventually(t, "destinations "+s, func() bool { return dir.dests("-t 10.2.3.1:80") == s })
	}
	want("127.0.0.11:80/10 127.0.0.12:80/10 127.0.0.13:80/10 127.0.0.14:80/10")
	h.eventually(t, "the second service", func() bool { return dir.dests("-t 10.2.3.1:443") != "" })
	if n := h.d.etcd.count(); n != 1 {
		t.Errorf("%d etcd clients for one endpoint, want 1", n)
	}

	h.set(t, "mw1001.eqiad.wmnet", 20, "yes")
	want("127.0.0.11:80/20 127.0.0.12:80/10 127.0.0.13:80/10 127.0.0.14:80/10")
	h.set(t, "mw1002.eqiad.wmnet", 10, "no")
	want("127.0.0.11:80/20 127.0.0.13:80/10 127.0.0.14:80/10")
	if got := h.get(t, "/pools/apache2_80/mw1002.eqiad.wmnet"); got != "disabled/up/not pooled\n" {
		t.Errorf("mw1002 after pooled=no: %q", got)
	}
	h.set(t, "mw1003.eqiad.wmnet", 10, "inactive")
	want("127.0.0.11:80/20 127.0.0.14:80/10")
	h.del(t, "mw1004.eqiad.wmnet")
	h.set(t, "mw1005.eqiad.wmnet", 5, "yes")
	want("127.0.0.11:80/20 127.0.0.15:80/5")
	if got := h.pools(t); got != "mw1001.eqiad.wmnet:\tenabled/up/pooled\nmw1002.eqiad.wmnet:\tdisabled/up/not pooled\nmw1005.eqiad.wmnet:\tenabled/up/pooled\n" {
		t.Errorf("/pools/apache2_80:\n%s", got)
	}

	// Garbage under mw1001: it stays as it was; a later change of another
	// node shows the garbage was read (views come in revision order).
	h.node(t, "mw1001.eqiad.wmnet", `{"weight": 0, "pooled": "maybe"}`)
	h.set(t, "mw1005.eqiad.wmnet", 7, "yes")
	want("127.0.0.11:80/20 127.0.0.15:80/7")
	alerts := h.get(t, "/alerts")
	if !strings.Contains(alerts, "Pool apache2_80: etcd source etcd://"+etcdHostPort(e)+nodeDir+": 1 value(s) that do not parse ignored, "+
		"each node keeps its last good state: mw1001.eqiad.wmnet. ") || !strings.HasPrefix(alerts, "WARNING - ") {
		t.Errorf("/alerts after a garbage value:\n%s", alerts)
	}
	if got := h.metric(t, `lvsd_etcd_rejected_values_total{service="apache2_80"}`); got != "1" {
		t.Errorf("rejected values = %q", got)
	}
	if !strings.Contains(h.log.String(), "key="+nodeDir+"mw1001.eqiad.wmnet") {
		t.Errorf("the garbage value is not logged with its key")
	}
	// A good value again ends the warning.
	h.set(t, "mw1001.eqiad.wmnet", 30, "yes")
	want("127.0.0.11:80/30 127.0.0.15:80/7")
	h.eventually(t, "healthy alerts", func() bool {
		return !strings.Contains(h.get(t, "/alerts"), "do not parse")
	})
	if got := h.metric(t, `lvsd_etcd_connected{service="apache2_443"}`); got != "1" {
		t.Errorf("lvsd_etcd_connected of the second service = %q", got)
	}
}

// The depool threshold applies to etcd changes: depooling every server
// (pooled=no) leaves threshold-many pooled, reported; removing them
// (inactive, or a deleted key) counts against it too, as for a line gone
// from a pool file: the servers still pooled stay, reported as removed,
// until enough others are up.
func TestEtcdDepoolThreshold(t *testing.T) {
	e := testetcd.Start(t)
	dir := &fakeDirector{}
	h := startEtcdDaemon(t, e, etcdConf, dir)
	hosts := []string{"mw1001.eqiad.wmnet", "mw1002.eqiad.wmnet", "mw1003.eqiad.wmnet", "mw1004.eqiad.wmnet"}
	for _, n := range hosts {
		h.set(t, n, 10, "yes")
	}
	h.eventually(t, "four pooled", func() bool { return strings.Count(dir.dests("-t 10.2.3.1:80"), "/10") == 4 })
	for _, n := range hosts {
		h.set(t, n, 10, "no")
	}
	h.eventually(t, "every node disabled", func() bool { return strings.Count(h.pools(t), "disabled/") == 4 })
	// Which two stay depends on how etcd batched the events (those pooled
	// before a change are kept first); that two stay, and are named, not.
	var held, others []string
	for _, l := range strings.Split(strings.TrimSpace(h.pools(t)), "\n") {
		if host, ok := strings.CutSuffix(l, ":\tdisabled/up/pooled"); ok {
			held = append(held, host)
		} else {
			others = append(others, strings.Split(l, ":")[0])
		}
	}
	if got := dir.dests("-t 10.2.3.1:80"); len(held) != 2 || strings.Count(got, "/10") != 2 {
		t.Fatalf("with every node pooled=no: held %v, destinations %q; want two", held, got)
	}
	want := "WARNING - Pool apache2_80: disabled servers " + strings.Join(held, ", ") + " kept pooled by the depool threshold. "
	if got := h.get(t, "/alerts"); got != want {
		t.Errorf("/alerts: %q, want %q", got, want)
	}
	h.set(t, held[0], 10, "inactive")
	h.del(t, held[1])
	for _, n := range others {
		h.set(t, n, 10, "inactive")
	}
	want = "WARNING - Pool apache2_80: removed servers " + strings.Join(held, ", ") + " kept pooled by the depool threshold. "
	h.eventually(t, "removed servers kept", func() bool { return h.get(t, "/alerts") == want })
	if got := dir.dests("-t 10.2.3.1:80"); strings.Count(got, "/10") != 2 {
		t.Errorf("after removing every node: destinations %q, want the two kept", got)
	}
	// Two others enabled and up: the removed ones can go.
	for _, n := range others {
		h.set(t, n, 10, "yes")
	}
	h.eventually(t, "the removed servers gone", func() bool {
		return h.pools(t) == others[0]+":\tenabled/up/pooled\n"+others[1]+":\tenabled/up/pooled\n"
	})
	if got := dir.dests("-t 10.2.3.1:80"); strings.Count(got, "/10") != 2 || strings.Contains(h.get(t, "/alerts"), "removed") {
		t.Errorf("destinations %q, /alerts %q", got, h.get(t, "/alerts"))
	}
}

// A prefix without nodes at start gives an empty pool and leaves the
// service as it is in IPVS (PyBal never configures it), said in /alerts;
// the first node makes it a service like any other.
func TestEtcdEmptyPrefixAtStart(t *testing.T) {
	e := testetcd.Start(t)
	dir := &fakeDirector{}
	h := startEtcdDaemon(t, e, etcdConf, dir)
	h.set(t, "mw1001.eqiad.wmnet", 10, "inactive") // a node, but not in the pool
	want := "WARNING - Pool apache2_80: etcd source etcd://" + etcdHostPort(e) + nodeDir +
		" has no node with pooled yes or no; the service is left as it is in IPVS until one appears. "
	h.eventually(t, "the empty prefix in /alerts", func() bool { return h.get(t, "/alerts") == want })
	if got := dir.dests("-t 10.2.3.1:80"); got != "" {
		t.Errorf("an empty first pool was reconciled: %q", got)
	}
	h.set(t, "mw1002.eqiad.wmnet", 10, "yes")
	h.eventually(t, "mw1002 pooled", func() bool { return dir.dests("-t 10.2.3.1:80") == "127.0.0.12:80/10" })
	if got := h.get(t, "/alerts"); strings.Contains(got, "no node") {
		t.Errorf("/alerts once a node is pooled: %q", got)
	}
}

// While etcd is down the last pool stays and /alerts and the metrics say
// so; a change made after it returns is applied. A compaction past
// everything the daemon saw, made while it was away, costs a re-read that
// loses nothing.
func TestEtcdOutageAndCompaction(t *testing.T) {
	e := testetcd.Start(t)
	dir := &fakeDirector{}
	h := startEtcdDaemon(t, e, etcdConf, dir)
	for _, n := range []string{"mw1001", "mw1002", "mw1003"} {
		h.set(t, n+".eqiad.wmnet", 10, "yes")
	}
	const all = "127.0.0.11:80/10 127.0.0.12:80/10 127.0.0.13:80/10"
	h.eventually(t, "three pooled", func() bool { return dir.dests("-t 10.2.3.1:80") == all })
	connected := `lvsd_etcd_connected{service="apache2_80"}`
	if got := h.metric(t, connected); got != "1" {
		t.Errorf("%s = %q", connected, got)
	}
	relists := h.metric(t, `lvsd_etcd_relists_total{service="apache2_80"}`)

	e.Stop()
	h.eventually(t, "disconnected", func() bool { return h.metric(t, connected) == "0" })
	alerts := h.get(t, "/alerts")
	prefix := "WARNING - Pool apache2_80: etcd source etcd://" + etcdHostPort(e) + nodeDir + " unreachable for "
	if !strings.HasPrefix(alerts, prefix) || !strings.Contains(alerts, "s; keeping the last pool (revision ") {
		t.Errorf("/alerts during the outage: %q", alerts)
	}
	if got := dir.dests("-t 10.2.3.1:80"); got != all {
		t.Errorf("destinations during the outage: %q", got)
	}
	if !strings.Contains(h.log.String(), "etcd: unreachable; keeping the last good state") {
		t.Errorf("the outage is not logged")
	}

	// Back, with changes and a compaction to the latest revision before
	// (or while) the daemon reconnects.
	e.Restart(t)
	h.set(t, "mw1001.eqiad.wmnet", 10, "no")
	h.set(t, "mw1004.eqiad.wmnet", 5, "yes")
	h.del(t, "mw1003.eqiad.wmnet")
	resp, err := h.c.Get(t.Context(), "x")
	if err != nil {
		t.Fatal(err)
	}
	e.Compact(t, resp.Header.Revision)
	h.eventually(t, "the changes made after the restart", func() bool {
		return dir.dests("-t 10.2.3.1:80") == "127.0.0.12:80/10 127.0.0.14:80/5"
	})
	h.eventually(t, "connected again", func() bool { return h.metric(t, connected) == "1" })
	if got := h.metric(t, `lvsd_etcd_relists_total{service="apache2_80"}`); number(t, got) <= number(t, relists) {
		t.Errorf("relists %s after the outage, %s before", got, relists)
	}
	if got := h.pools(t); got != "mw1001.eqiad.wmnet:\tdisabled/up/not pooled\nmw1002.eqiad.wmnet:\tenabled/up/pooled\nmw1004.eqiad.wmnet:\tenabled/up/pooled\n" {
		t.Errorf("/pools after the outage:\n%s", got)
	}
	h.eventually(t, "healthy alerts", func() bool { return h.get(t, "/alerts") == "OK - All pools are healthy" })
}

// A daemon started while etcd is down serves, leaves the service as it is
// in IPVS and says so; once etcd answers, the pool is applied.
func TestEtcdDownAtStart(t *testing.T) {
	e := testetcd.Start(t)
	c := e.Client(t)
	if _, err := c.Put(t.Context(), nodeDir+"mw1001.eqiad.wmnet", `{"weight": 10, "pooled": "yes"}`); err != nil {
		t.Fatal(err)
	}
	e.Stop()
	dir := &fakeDirector{}
	h := startEtcdDaemon(t, e, etcdConf, dir)
	prefix := "WARNING - Pool apache2_80: etcd source etcd://" + etcdHostPort(e) + nodeDir + " unreachable for "
	alerts := h.get(t, "/alerts")
	if !strings.HasPrefix(alerts, prefix) || !strings.HasSuffix(alerts, " since start; no pool from it yet, the service is left as it is in IPVS. ") {
		t.Errorf("/alerts with etcd down at start: %q", alerts)
	}
	if got := h.metric(t, `lvsd_etcd_connected{service="apache2_80"}`); got != "0" {
		t.Errorf("lvsd_etcd_connected = %q", got)
	}
	if got := dir.dests("-t 10.2.3.1:80"); got != "" {
		t.Errorf("reconciled without a pool: %q", got)
	}
	e.Restart(t)
	h.eventually(t, "the pool once etcd answers", func() bool { return dir.dests("-t 10.2.3.1:80") == "127.0.0.11:80/10" })
}

// With the dry-run IPVS (lvsd --dry-run), confctl's pooled=no for mw1001
// shows in /pools as disabled and in the log as ipvsadm's -d, or, with
// drain-on-depool, as an edit to weight 0.
func TestEtcdDryRunPooledNo(t *testing.T) {
	tests := []struct {
		name, extra, op string
	}{
		{"removed", "", `op="-d -t 10.2.3.1:80 -r 127.0.0.11:80" dry_run=true`},
		{"drained", "drain-on-depool = yes\n", `op="-e -t 10.2.3.1:80 -r 127.0.0.11:80 -g -w 0" dry_run=true`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := testetcd.Start(t)
			var ops testutil.SyncBuffer
			h := startEtcdDaemon(t, e, etcdConf+tc.extra, ipvs.NewDryRun(slog.New(slog.NewTextHandler(&ops, nil))))
			for _, n := range []string{"mw1001", "mw1002", "mw1003"} {
				h.set(t, n+".eqiad.wmnet", 10, "yes")
			}
			added := `op="-a -t 10.2.3.1:80 -r 127.0.0.11:80 -g -w 10" dry_run=true`
			h.eventually(t, "mw1001 added", func() bool { return strings.Contains(ops.String(), added) })
			h.set(t, "mw1001.eqiad.wmnet", 10, "no")
			h.eventually(t, tc.op, func() bool { return strings.Contains(ops.String(), tc.op) })
			if got := h.get(t, "/pools/apache2_80/mw1001.eqiad.wmnet"); got != "disabled/up/not pooled\n" {
				t.Errorf("/pools/apache2_80/mw1001.eqiad.wmnet = %q", got)
			}
			if !strings.Contains(ops.String(), `msg="ipvs op" op="-A -t 10.2.3.1:80 -s wrr" dry_run=true`) {
				t.Errorf("dry-run log:\n%s", ops.String())
			}
		})
	}
}

// A reload changing the etcd client keys restarts the etcd services'
// watchers with a new client, keeping their pools and server states; one
// switching a service from a file to an etcd prefix without nodes keeps
// its pool rather than emptying it.
func TestEtcdReload(t *testing.T) {
	e := testetcd.Start(t)
	dir := &fakeDirector{}
	h := startEtcdDaemon(t, e, etcdConf+"\n[file_80]\nprotocol = tcp\nip = 10.2.3.2\nport = 80\nscheduler = rr\nconfig = file://"+
		"DIR/pool\npool-poll-interval = 0.02\n", dir)
	testutil.WriteAtomic(t, h.dir+"/pool", line("127.0.0.21", 10, true))
	h.set(t, "mw1001.eqiad.wmnet", 10, "yes")
	h.set(t, "mw1002.eqiad.wmnet", 10, "no")
	h.eventually(t, "both services", func() bool {
		return dir.dests("-t 10.2.3.1:80") == "127.0.0.11:80/10" && dir.dests("-t 10.2.3.2:80") == "127.0.0.21:80/10"
	})
	// mw1002 (pooled=no) is not in IPVS: wait for it in /pools, since the
	// two changes may come in two views.
	h.eventually(t, "mw1002 disabled", func() bool { return strings.Contains(h.pools(t), "mw1002.eqiad.wmnet:\tdisabled/") })
	before := h.pools(t)

	pw := h.dir + "/etcd-password"
	testutil.WriteAtomic(t, pw, "secret\n")
	conf := strings.Replace(mustRead(t, h.conf), "[global]\n", "[global]\netcd-user = lvsd\netcd-password-file = "+pw+"\n", 1)
	// The file service moves to a prefix where nothing is.
	conf = strings.Replace(conf, "config = file://"+h.dir+"/pool", "config = etcd://"+etcdHostPort(e)+"/conftool/v1/pools/eqiad/appserver/empty/", 1)
	testutil.WriteAtomic(t, h.conf, conf)
	if err := h.d.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"[apache2_80] Configuration changed ([global] etcd-*), restarting its pool watcher",
		"[file_80] Configuration changed (config), restarting its pool watcher",
		"[global] etcd-cacert/-cert/-key/-user/-password-file changed: applied now"} {
		if !strings.Contains(h.log.String(), w) {
			t.Errorf("log lacks %q", w)
		}
	}
	h.set(t, "mw1003.eqiad.wmnet", 10, "yes")
	h.eventually(t, "a change after the reload", func() bool { return dir.dests("-t 10.2.3.1:80") == "127.0.0.11:80/10 127.0.0.13:80/10" })
	if got := h.pools(t); got != before+"mw1003.eqiad.wmnet:\tenabled/up/pooled\n" {
		t.Errorf("/pools after the reload:\n%s\nbefore:\n%s", got, before)
	}
	h.eventually(t, "the empty prefix reported", func() bool {
		return strings.Contains(h.get(t, "/alerts"), "Pool file_80: etcd source etcd://"+etcdHostPort(e)+"/conftool/v1/pools/eqiad/appserver/empty/ has no node")
	})
	if got := dir.dests("-t 10.2.3.2:80"); got != "127.0.0.21:80/10" {
		t.Errorf("the service moved to an empty prefix lost its pool: %q", got)
	}
	// One client per endpoint and settings: the old one was let go.
	if n := h.d.etcd.count(); n != 1 {
		t.Errorf("%d etcd clients after the reload, want 1", n)
	}
	if strings.Contains(h.log.String(), "etcd metrics not registered") {
		t.Errorf("a restarted service's metrics clashed with its predecessor's")
	}
	if got := h.metric(t, `lvsd_etcd_connected{service="file_80"}`); got != "1" {
		t.Errorf(`lvsd_etcd_connected{service="file_80"} = %q`, got)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
