package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/conftool"
	"github.com/geotraffic/geotraffic/conftool/etcdstore"
	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

func put(t *testing.T, c *clientv3.Client, k, v string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Put(ctx, k, v); err != nil {
		t.Fatal(err)
	}
}

func status(t *testing.T, url string) map[string]json.RawMessage {
	t.Helper()
	resp, err := http.Get(url + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]json.RawMessage
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("/status: %v: %s", err, b)
	}
	return out
}

// The service against a real etcd: sites and overrides follow each
// change, a refused set keeps the last good one, and an outage keeps the
// routes while reporting it.
func TestFollowsRealEtcd(t *testing.T) {
	e := testetcd.Start(t)
	c := e.Client(t)
	put(t, c, kCodfw, `{"state":"down"}`)
	cli, err := etcdstore.ClientConfig{Endpoints: e.Endpoints()}.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	dir := t.TempDir()
	rp := filepath.Join(dir, "routing.yaml")
	testutil.WriteAtomic(t, rp, cfgText)
	reg := prometheus.NewRegistry()
	s, err := New(Options{RoutingPath: rp, AdminStatePath: filepath.Join(dir, "admin_state"), Registry: reg, Poll: -1,
		Etcd: &EtcdOptions{Client: cli, Layout: layout, Endpoints: e.Endpoints(), Probe: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	select {
	case <-s.EtcdReady():
	case <-time.After(15 * time.Second): // only bounds a failing test
		t.Fatal("no first view from etcd")
	}
	if got := path(s, "text", "ulsfo"); got != "ulsfo eqiad" {
		t.Fatalf("codfw down in etcd before the start: %q", got)
	}
	put(t, c, kUlsfo, `{"route":"codfw"}`)
	put(t, c, kCodfw, `{"state":"up"}`)
	testutil.WaitFor(t, "the override", func() bool { return path(s, "text", "ulsfo") == "ulsfo codfw eqiad" })
	put(t, c, kCodfR, `{"route":"ulsfo"}`) // a loop, by hand
	testutil.WaitFor(t, "the refusal", func() bool { return s.Errors()[kindEtcd] != "" })
	if !strings.Contains(s.Errors()[kindEtcd], "etcd "+kCodfR+"@") || path(s, "text", "ulsfo") != "ulsfo codfw eqiad" {
		t.Fatalf("refusal %v, ulsfo %q", s.Errors(), path(s, "text", "ulsfo"))
	}
	if !strings.Contains(string(status(t, srv.URL)["errors"]), kCodfR) {
		t.Error("/status does not name the refused key")
	}

	gen := s.Current().Generation
	e.Stop()
	testutil.WaitFor(t, "every watch disconnected", func() bool {
		for _, w := range s.EtcdStatus().Watches {
			if w.Connected {
				return false
			}
		}
		return true
	})
	if s.Current().Generation != gen || path(s, "text", "ulsfo") != "ulsfo codfw eqiad" {
		t.Fatal("the outage changed the routes")
	}
	if v := gauge(t, reg, "geotraffic_routing_etcd_connected", layout.Dir(conftool.Route)); v != 0 {
		t.Fatalf("etcd_connected = %v", v)
	}
	var st EtcdStatus
	if err := json.Unmarshal(status(t, srv.URL)["etcd"], &st); err != nil || st.Connected || st.Revision == 0 {
		t.Fatalf("/status etcd during the outage: %+v %v", st, err)
	}
	e.Restart(t)
	if _, err := c.Delete(context.Background(), kCodfR); err != nil {
		t.Fatal(err)
	}
	put(t, c, kEqiad, `{"state":"down"}`)
	// Each prefix has its own watcher: wait for both changes.
	testutil.WaitFor(t, "the loop's removal after the outage", func() bool { return len(s.Errors()) == 0 })
	testutil.WaitFor(t, "eqiad down after the outage", func() bool { return path(s, "text", "ulsfo") == "ulsfo codfw" })
	testutil.WaitFor(t, "connected", func() bool { return s.EtcdStatus().Connected })
}
