package daemon

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// A server kept pooled while disabled (the depool threshold needed it)
// that goes down and is then enabled again leaves IPVS at once when enough
// others are up, as any down server would; it does not stay pooled until
// some other server comes up. Real HTTP backends, the fake IPVS.
func TestReenabledDownServerDepooled(t *testing.T) {
	var mu sync.Mutex
	healthy := map[string]bool{}
	ips := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}
	port := ""
	for _, ip := range ips {
		l, err := listenOn(ip, port)
		if err != nil {
			t.Fatalf("cannot bind %s: %v", ip, err)
		}
		port = strings.Split(l.Addr().String(), ":")[1]
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if !healthy[ip] {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}))
		s.Listener = l
		s.Start()
		t.Cleanup(s.Close)
		healthy[ip] = true
	}
	h := startDaemon(t, strings.Replace(baseConf, "port = 80", "port = "+port, 1))
	pool := func(enabled bool) string {
		var b strings.Builder
		for _, ip := range ips {
			b.WriteString(line(ip, 10, enabled))
		}
		return b.String()
	}
	svc, p := "-t 10.2.2.1:"+port, ":"+port+"/10"
	testutil.WriteAtomic(t, filepath.Join(h.dir, "web"), pool(true))
	testutil.WaitFor(t, "four pooled", func() bool { return h.dir2.dests(svc) == strings.Join(ips, p+" ")+p })
	// Every server disabled: two kept for the threshold; one of them dies.
	testutil.WriteAtomic(t, filepath.Join(h.dir, "web"), pool(false))
	testutil.WaitFor(t, "two held", func() bool { return h.dir2.dests(svc) == "127.0.0.2"+p+" 127.0.0.3"+p })
	mu.Lock()
	healthy["127.0.0.2"] = false
	mu.Unlock()
	testutil.WaitFor(t, "the held server down", func() bool { s := h.d.Pools()[0]; return strings.Join(s.PooledDown, " ") == "127.0.0.2" })
	// Enabled again: three are up, so the down one leaves.
	testutil.WriteAtomic(t, filepath.Join(h.dir, "web"), pool(true))
	testutil.WaitFor(t, "the down server depooled", func() bool { return h.dir2.dests(svc) == "127.0.0.3"+p+" 127.0.0.4"+p+" 127.0.0.5"+p })
	if s := h.d.Pools()[0]; len(s.PooledDown) != 0 {
		t.Errorf("pooled but down: %v", s.PooledDown)
	}
}
