package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/prometheus/client_golang/prometheus"
)

// The etcd tests run lvsd's daemon against a real etcd (internal/testetcd)
// with node names resolved by a fixed table (mw1001.eqiad.wmnet is
// 127.0.0.11, ...), and read its instrumentation API over loopback.

const nodeDir = "/conftool/v1/pools/eqiad/appserver/apache2/"

// etcdConf is a pybal.conf with one service following nodeDir; ETCD is the
// etcd's host:port.
const etcdConf = `[global]
dns-refresh-interval = 60

[apache2_80]
protocol = tcp
ip = 10.2.3.1
port = 80
scheduler = wrr
config = etcd://ETCD` + nodeDir + `
depool-threshold = .5
`

type etcdHarness struct {
	e    *testetcd.Etcd
	c    *clientv3.Client
	dir  string
	conf string
	d    *Daemon
	ipvs ipvs.Director
	reg  *prometheus.Registry
	api  string // http://127.0.0.1:PORT
	log  *testutil.SyncBuffer
}

// lookupTable resolves mwNNNN.eqiad.wmnet to 127.0.0.(NNNN-990).
func lookupTable(_ context.Context, _, host string) ([]netip.Addr, error) {
	var n int
	if _, err := fmt.Sscanf(host, "mw%d.eqiad.wmnet", &n); err != nil || n < 1001 || n > 1200 {
		return nil, fmt.Errorf("lookup %s: no such host", host)
	}
	return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, byte(n - 990)})}, nil
}

func etcdHostPort(e *testetcd.Etcd) string { return strings.TrimPrefix(e.Endpoint(), "http://") }

// startEtcdDaemon starts the daemon on conf (ETCD and DIR, its temporary
// directory, replaced) with dir as its IPVS; e may be stopped (the daemon
// must start without etcd).
func startEtcdDaemon(t *testing.T, e *testetcd.Etcd, conf string, dir ipvs.Director) *etcdHarness {
	t.Helper()
	h := &etcdHarness{e: e, c: e.Client(t), dir: t.TempDir(), ipvs: dir, reg: prometheus.NewRegistry(), log: &testutil.SyncBuffer{}}
	h.conf = filepath.Join(h.dir, "pybal.conf")
	testutil.WriteAtomic(t, h.conf, strings.NewReplacer("ETCD", etcdHostPort(e), "DIR", h.dir).Replace(conf))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.api = "http://" + l.Addr().String()
	log := slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// Registered first so it runs after runDaemon's stop: the log is whole.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lvsd log:\n%s", h.log)
		}
	})
	h.d, _ = runDaemon(t, Options{ConfigPath: h.conf, Director: dir, Log: log, Registry: h.reg, Lookup: lookupTable,
		InstrumentationListeners: []net.Listener{l}})
	return h
}

// node writes a node's conftool value (or any text, for garbage).
func (h *etcdHarness) node(t *testing.T, host, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.c.Put(ctx, nodeDir+host, value); err != nil {
		t.Fatal(err)
	}
}

func (h *etcdHarness) set(t *testing.T, host string, weight int, pooled string) {
	t.Helper()
	h.node(t, host, fmt.Sprintf(`{"weight": %d, "pooled": %q}`, weight, pooled))
}

func (h *etcdHarness) del(t *testing.T, host string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.c.Delete(ctx, nodeDir+host); err != nil {
		t.Fatal(err)
	}
}

// get returns a path of the instrumentation API (text forms).
func (h *etcdHarness) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get(h.api + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// metric returns the value of one series line of /metrics, "" if absent.
func (h *etcdHarness) metric(t *testing.T, series string) string {
	t.Helper()
	for _, l := range strings.Split(h.get(t, "/metrics"), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return ""
}

// eventually waits for cond, bounded by 30 s (outages take a probe and a
// reconnection; a loaded machine gets room, a hang still fails).
func (h *etcdHarness) eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pools is /pools/apache2_80's text, one "host:\tstate" line per server.
func (h *etcdHarness) pools(t *testing.T) string { return h.get(t, "/pools/apache2_80") }
