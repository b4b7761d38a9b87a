package etcdstore

import (
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// State's time moves with each change of reachability only; a full read is
// marked Listed, a view made of watch events is not; the metrics follow.
func TestWatcherStateListedAndMetrics(t *testing.T) {
	e := testetcd.Start(t)
	c := e.Client(t)
	const esams = "/conftool/v1/sites/esams"
	put(t, c, esams, `{"state":"up"}`)
	var logs testutil.SyncBuffer
	before := time.Now()
	w, vs := startWatcher(t, e, "/conftool/v1/sites/", slog.New(slog.NewTextHandler(&logs, nil)))
	reg := prometheus.NewRegistry()
	if err := RegisterMetrics(reg, "test", prometheus.Labels{"service": "s"}, w); err != nil {
		t.Fatal(err)
	}
	if v := vs.waitFor(t, "the first view", func(View) bool { return true }); !v.Listed {
		t.Errorf("first view not marked Listed: %+v", v)
	}
	waitUntil(t, "connected", w.Connected, &logs)
	up, since := w.State()
	if !up || since.Before(before) {
		t.Errorf("State() = %v, %v; want connected since after %v", up, since, before)
	}
	put(t, c, esams, `{"state":"down"}`)
	if v := vs.waitFor(t, "esams down", func(v View) bool { return value(v, esams) == `{"state":"down"}` }); v.Listed {
		t.Errorf("a view of watch events is marked Listed: %+v", v)
	}
	if _, again := w.State(); !again.Equal(since) {
		t.Errorf("State's time moved without a change of reachability: %v then %v", since, again)
	}
	if got := gauge(t, reg, "test_etcd_connected"); got != 1 {
		t.Errorf("test_etcd_connected = %v", got)
	}

	e.Stop()
	waitUntil(t, "disconnected", func() bool { return !w.Connected() }, &logs)
	down, downSince := w.State()
	if down || !downSince.After(since) {
		t.Errorf("after the stop: State() = %v, %v (was connected since %v)", down, downSince, since)
	}
	if got := gauge(t, reg, "test_etcd_connected"); got != 0 {
		t.Errorf("test_etcd_connected = %v during the outage", got)
	}
	e.Restart(t)
	put(t, c, esams, `{"state":"up"}`)
	v := vs.waitFor(t, "esams up", func(v View) bool { return value(v, esams) == `{"state":"up"}` })
	waitUntil(t, "connected again", w.Connected, &logs)
	// Whether the change came in the re-read or in a watch event after it,
	// a re-read happened and is counted.
	if w.Relists() < 1 {
		t.Errorf("relists %d after an outage (last view listed %v)", w.Relists(), v.Listed)
	}
}

// gauge reads the one series of a metric family.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no single series %s", name)
	return 0
}
