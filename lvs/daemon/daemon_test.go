package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/lvs/bgp"
	"github.com/geotraffic/geotraffic/lvs/ipvs"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeDirector records what the daemon asks of IPVS.
type fakeDirector struct {
	mu      sync.Mutex
	last    map[ipvs.ServiceKey]ipvs.Desired
	calls   int
	removed []ipvs.ServiceKey
}

func (f *fakeDirector) Reconcile(_ context.Context, desired []ipvs.Desired) ([]ipvs.Op, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.last == nil {
		f.last = map[ipvs.ServiceKey]ipvs.Desired{}
	}
	for _, d := range desired {
		f.last[d.Service.Key] = d
	}
	return nil, nil
}

func (f *fakeDirector) RemoveService(_ context.Context, k ipvs.ServiceKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, k)
	delete(f.last, k)
	return nil
}

func (f *fakeDirector) Status(context.Context) ([]ipvs.ServiceStatus, error) { return nil, nil }
func (f *fakeDirector) Close() error                                         { return nil }

// dests renders a service's desired destinations as "addr:port/w".
func (f *fakeDirector) dests(svc string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k, d := range f.last {
		if k.String() != svc {
			continue
		}
		for _, x := range d.Destinations {
			out = append(out, fmt.Sprintf("%s:%d/%d", x.Addr, x.Port, x.Weight))
		}
		if len(out) == 0 {
			return "empty"
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

type fakeAnnouncer struct {
	mu      sync.Mutex
	routes  []bgp.Route
	stopped bool
}

func (a *fakeAnnouncer) Start(context.Context) error { return nil }
func (a *fakeAnnouncer) SetRoutes(_ context.Context, r []bgp.Route) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.routes = r
	return nil
}
func (a *fakeAnnouncer) Routes() []bgp.Route {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.routes
}
func (a *fakeAnnouncer) Peers() []bgp.PeerStatus { return nil }
func (a *fakeAnnouncer) Stop(context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stopped = true
	return nil
}

func (a *fakeAnnouncer) prefixes() string {
	var out []string
	for _, r := range a.Routes() {
		out = append(out, fmt.Sprintf("%s/%d", r.Prefix.Addr(), r.MED))
	}
	return strings.Join(out, " ")
}

func line(host string, weight int, enabled bool) string {
	e := "False"
	if enabled {
		e = "True"
	}
	return fmt.Sprintf("{ 'host': '%s', 'weight': %d, 'enabled': %s }\n", host, weight, e)
}

type harness struct {
	dir, conf string
	dir2      *fakeDirector
	ann       *fakeAnnouncer
	d         *Daemon
	stop      func() error
}

func startDaemon(t *testing.T, conf string) *harness {
	t.Helper()
	return startDaemonLog(t, conf, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

func startDaemonLog(t *testing.T, conf string, log *slog.Logger) *harness {
	t.Helper()
	h := &harness{dir: t.TempDir(), dir2: &fakeDirector{}, ann: &fakeAnnouncer{}}
	h.conf = filepath.Join(h.dir, "pybal.conf")
	testutil.WriteAtomic(t, h.conf, strings.ReplaceAll(conf, "DIR", h.dir))
	h.d, h.stop = runDaemon(t, Options{ConfigPath: h.conf, Director: h.dir2, Log: log,
		Registry: prometheus.NewRegistry(),
		NewAnnouncer: func(bgp.Config, *slog.Logger, prometheus.Registerer) (bgp.Announcer, error) {
			return h.ann, nil
		}})
	return h
}

const baseConf = `[global]
pool-poll-interval = 0.02
bgp = yes
bgp-local-asn = 64600
bgp-peer-address = 127.0.0.1
bgp-nexthop-ipv4 = 127.0.0.1
bgp-med = 100

[web_80]
protocol = tcp
ip = 10.2.2.1
port = 80
scheduler = wrr
config = file://DIR/web
depool-threshold = .5
monitors = ["ProxyFetch"]
proxyfetch.url = ["http://web.example/"]
proxyfetch.interval = 0.05
proxyfetch.timeout = 1
bgp-withdraw-on-down = yes
`

func TestDaemonPoolAndHealth(t *testing.T) {
	var mu sync.Mutex
	healthy := map[string]bool{}
	var servers []*httptest.Server
	// Three backends on 127.0.0.2-4, same port.
	port := ""
	for i, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		l, err := listenOn(ip, port)
		if err != nil {
			t.Fatalf("cannot bind %s: %v", ip, err)
		}
		if i == 0 {
			port = strings.Split(l.Addr().String(), ":")[1]
		}
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			ok := healthy[ip]
			mu.Unlock()
			if !ok {
				w.WriteHeader(503)
			}
		}))
		s.Listener = l
		s.Start()
		defer s.Close()
		servers = append(servers, s)
		healthy[ip] = true
	}
	setHealthy := func(ip string, ok bool) { mu.Lock(); healthy[ip] = ok; mu.Unlock() }
	conf := strings.Replace(baseConf, "port = 80", "port = "+port, 1)
	h := startDaemon(t, conf)
	svc := "-t 10.2.2.1:" + port
	testutil.WriteAtomic(t, filepath.Join(h.dir, "web"), line("127.0.0.2", 10, true)+line("127.0.0.3", 20, true)+line("127.0.0.4", 0, true))
	want := func(s string) {
		t.Helper()
		testutil.WaitFor(t, "destinations "+s, func() bool { return h.dir2.dests(svc) == s })
	}
	p := ":" + port
	want("127.0.0.2" + p + "/10 127.0.0.3" + p + "/20 127.0.0.4" + p + "/0")
	testutil.WaitFor(t, "route", func() bool { return h.ann.prefixes() == "10.2.2.1/100" })

	setHealthy("127.0.0.2", false)
	want("127.0.0.3" + p + "/20 127.0.0.4" + p + "/0")
	// Second down: 1 up of 3 < 1.5 → kept pooled.
	setHealthy("127.0.0.3", false)
	testutil.WaitFor(t, "pooled-but-down", func() bool { s := h.d.Pools()[0]; return len(s.PooledDown) == 1 })
	want("127.0.0.3" + p + "/20 127.0.0.4" + p + "/0")
	setHealthy("127.0.0.2", true)
	// 127.0.0.2 back: 127.0.0.3 can now leave.
	want("127.0.0.2" + p + "/10 127.0.0.4" + p + "/0")

	// Pool change: weight change, host removed, disabled host.
	testutil.WriteAtomic(t, filepath.Join(h.dir, "web"), line("127.0.0.2", 5, true)+"#"+line("127.0.0.3", 20, true)+line("127.0.0.4", 10, false))
	want("127.0.0.2" + p + "/5")

	// All down with withdraw-on-down: the VIP is withdrawn once no server
	// is both pooled and up.
	testutil.WriteAtomic(t, filepath.Join(h.dir, "web"), line("127.0.0.2", 5, true))
	setHealthy("127.0.0.2", false)
	testutil.WaitFor(t, "withdraw", func() bool { return h.ann.prefixes() == "" })
	setHealthy("127.0.0.2", true)
	testutil.WaitFor(t, "re-announce", func() bool { return h.ann.prefixes() == "10.2.2.1/100" })

	if err := h.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	if !h.ann.stopped {
		t.Error("announcer not stopped")
	}
}

func TestDaemonReload(t *testing.T) {
	conf := `[global]
pool-poll-interval = 0.02

[a]
protocol = tcp
ip = 10.2.2.1
port = 80
scheduler = wrr
config = file://DIR/a
monitors = ["RunCommand"]
runcommand.command = /bin/true
runcommand.arguments = [server.host]
runcommand.interval = 0.05

[b]
protocol = udp
ip = 10.2.2.2
port = 53
scheduler = rr
config = file://DIR/b
`
	h := startDaemon(t, conf)
	testutil.WriteAtomic(t, filepath.Join(h.dir, "a"), line("127.0.0.2", 10, true))
	testutil.WriteAtomic(t, filepath.Join(h.dir, "b"), line("127.0.0.3", 10, true))
	testutil.WaitFor(t, "both services", func() bool {
		return h.dir2.dests("-t 10.2.2.1:80") == "127.0.0.2:80/10" && h.dir2.dests("-u 10.2.2.2:53") == "127.0.0.3:53/10"
	})
	aBefore := h.d.Pools()[0]
	h.d.mu.Lock()
	aSvc := h.d.services[0]
	h.d.mu.Unlock()
	// Bad file: refused whole.
	testutil.WriteAtomic(t, h.conf, strings.ReplaceAll(conf, "DIR", h.dir)+"\n[c]\nprotocol = sctp\n")
	if err := h.d.Reload(); err == nil || !strings.Contains(err.Error(), "pybal.conf:23: protocol: must be tcp or udp") {
		t.Fatalf("bad reload: %v", err)
	}
	if n := len(h.d.Pools()); n != 2 {
		t.Fatalf("services after refused reload: %d", n)
	}
	// Remove b, change nothing in a, add c.
	newConf := strings.ReplaceAll(strings.Split(conf, "[b]")[0], "DIR", h.dir) + `[c]
protocol = tcp
ip = 10.2.2.3
port = 443
scheduler = mh
mh-port = yes
config = file://` + h.dir + `/a
`
	testutil.WriteAtomic(t, h.conf, newConf)
	if err := h.d.Reload(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "c reconciled", func() bool { return h.dir2.dests("-t 10.2.2.3:443") == "127.0.0.2:443/10" })
	h.dir2.mu.Lock()
	removed := fmt.Sprint(h.dir2.removed)
	h.dir2.mu.Unlock()
	if !strings.Contains(removed, "10.2.2.2") || strings.Contains(removed, "10.2.2.1") {
		t.Errorf("removed services: %s", removed)
	}
	pools := h.d.Pools()
	if len(pools) != 2 || pools[0].Name != "a" || pools[1].Name != "c" {
		t.Fatalf("pools %v", pools)
	}
	// a was untouched: the same running service, same state.
	h.d.mu.Lock()
	same := h.d.services[0] == aSvc
	h.d.mu.Unlock()
	if !same || fmt.Sprint(pools[0]) != fmt.Sprint(aBefore) {
		t.Errorf("a was restarted or changed: %v vs %v", pools[0], aBefore)
	}
}

func TestDaemonResolution(t *testing.T) {
	var mu sync.Mutex
	answers := map[string][]netip.Addr{"mw1.example": {netip.MustParseAddr("127.0.0.2")}}
	lookup := func(_ context.Context, network, host string) ([]netip.Addr, error) {
		mu.Lock()
		defer mu.Unlock()
		a, ok := answers[host]
		if !ok {
			return nil, fmt.Errorf("lookup %s: no such host", host)
		}
		return a, nil
	}
	conf := `[global]
pool-poll-interval = 0.02
dns-refresh-interval = 0.05

[a]
protocol = tcp
ip = 10.2.2.1
port = 80
scheduler = wrr
config = file://DIR/a

[v6]
protocol = tcp
ip = 2001:db8::1
port = 443
scheduler = wlc
config = file://DIR/a

`
	h := &harness{dir: t.TempDir(), dir2: &fakeDirector{}}
	h.conf = filepath.Join(h.dir, "pybal.conf")
	testutil.WriteAtomic(t, h.conf, strings.ReplaceAll(conf, "DIR", h.dir))
	testutil.WriteAtomic(t, filepath.Join(h.dir, "a"), line("mw1.example", 10, true)+line("mw2.example", 10, true))
	var logBuf testutil.SyncBuffer
	runDaemon(t, Options{ConfigPath: h.conf, Director: h.dir2, Lookup: lookup, Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	testutil.WaitFor(t, "mw1 pooled", func() bool { return h.dir2.dests("-t 10.2.2.1:80") == "127.0.0.2:80/10" })
	testutil.WaitFor(t, "retry log", func() bool {
		return strings.Count(logBuf.String(), "Initialization failed for server mw2.example, not pooled, will retry") >= 2
	})
	// mw2 starts resolving; mw1 moves.
	mu.Lock()
	answers["mw2.example"] = []netip.Addr{netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("::1")}
	answers["mw1.example"] = []netip.Addr{netip.MustParseAddr("127.0.0.4")}
	mu.Unlock()
	testutil.WaitFor(t, "re-resolution", func() bool { return h.dir2.dests("-t 10.2.2.1:80") == "127.0.0.3:80/10 127.0.0.4:80/10" })
	// The IPv6 service uses each name's IPv6 address: mw1 has none.
	testutil.WaitFor(t, "IPv6 service", func() bool { return h.dir2.dests("-t [2001:db8::1]:443") == "::1:443/10" })
	// A DNS failure keeps the last address.
	mu.Lock()
	delete(answers, "mw1.example")
	mu.Unlock()
	testutil.WaitFor(t, "re-resolve failure log", func() bool {
		return strings.Contains(logBuf.String(), "Could not re-resolve server mw1.example, keeping address 127.0.0.4")
	})
	if got := h.dir2.dests("-t 10.2.2.1:80"); got != "127.0.0.3:80/10 127.0.0.4:80/10" {
		t.Errorf("after DNS failure: %s", got)
	}
}
