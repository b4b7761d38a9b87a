package authdnse2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// The European ECS client of README's dig examples: esams, drmrs when
// esams is down.
const (
	euSubnet    = "192.0.2.0/24"
	esamsAddr   = "192.0.2.224"
	drmrsAddr   = "192.0.2.226"
	esamsKey    = "/conftool/v1/sites/esams"
	metricBound = 20 * time.Second // a loaded CI machine, not a speed goal
)

// euAnswer is the first address www.example.org answers the EU client.
func euAnswer(t testing.TB, s *server) string {
	t.Helper()
	r := mustAsk(t, s.addr, "udp", "www.example.org.", dns.TypeA, euSubnet)
	if len(r.Answer) == 0 {
		t.Fatalf("no answer: %v", r)
	}
	return r.Answer[0].(*dns.A).A.String()
}

// waitEU waits until the EU client gets want (reload_test's waitAnswer:
// a bounded poll).
func waitEU(t *testing.T, s *server, want string) {
	t.Helper()
	waitAnswer(t, s.addr, "www.example.org.", dns.TypeA, euSubnet, want)
}

// waitMetric polls /metrics until series has value v.
func waitMetric(t *testing.T, addr, series string, v float64) {
	t.Helper()
	deadline := time.Now().Add(metricBound)
	for {
		got, ok := scrape(t, addr)[series]
		if ok && got == v {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v (present %v), want %v", series, got, ok, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func put(t testing.TB, cli *clientv3.Client, key, value string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Put(ctx, key, value)
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return resp.Header.Revision
}

// writeAdmin replaces the server's admin_state by rename, as operators do.
func writeAdmin(t *testing.T, s *server, content string) {
	t.Helper()
	testutil.WriteAtomic(t, filepath.Join(s.dir, "admin_state"), content)
}

// stateInfo is one entry of `authdns states` and `ctl states`.
type stateInfo struct {
	State    string `json:"state"`
	Source   string `json:"source"`
	ForcedBy string `json:"forced_by"`
	Key      string `json:"key"`
	Revision int64  `json:"revision"`
	Line     int    `json:"line"`
}

// runAuthdns runs the binary; it returns stdout, stderr and the exit code.
func runAuthdns(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "authdns"), args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func parseStates(t *testing.T, out string) map[string]stateInfo {
	t.Helper()
	var m map[string]stateInfo
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return m
}

// One etcd, one authdns: a site object moves DNS answers, `authdns states`
// (one-shot and the daemon's) names its source, the local file overrides
// it, a garbage value changes nothing, and an outage keeps the last state
// until etcd returns.
func TestEtcdFollow(t *testing.T) {
	e := testetcd.Start(t)
	cli := e.Client(t)
	metrics := testutil.FreeAddr(t)
	s := startServerWith(t, "metrics: "+metrics+"\netcd:\n  endpoints: [\""+e.Endpoint()+"\"]\n  prefix: /conftool/v1\n", "")
	cfg := filepath.Join(s.dir, "authdns.yaml")
	if got := euAnswer(t, s); got != esamsAddr {
		t.Fatalf("before any change the EU client gets %s, want esams %s", got, esamsAddr)
	}

	rev := put(t, cli, esamsKey, `{"state":"down"}`)
	waitEU(t, s, drmrsAddr)

	// Both views of the states name the etcd object.
	out, errOut, code := runAuthdns(t, "states", "--config", cfg)
	if code != 0 {
		t.Fatalf("authdns states: exit %d\n%s", code, errOut)
	}
	daemonStates, _, code := runAuthdns(t, "ctl", "--control", filepath.Join(s.dir, "control.sock"), "states")
	if code != 0 {
		t.Fatal("ctl states failed")
	}
	for name, m := range map[string]map[string]stateInfo{"authdns states": parseStates(t, out), "ctl states": parseStates(t, daemonStates)} {
		got := m["site/esams"]
		if got.State != "DOWN!" || got.Source != "etcd" || got.Key != esamsKey || got.Revision != rev ||
			got.ForcedBy != "etcd "+esamsKey+"@"+strconv.FormatInt(rev, 10) {
			t.Errorf("%s: site/esams %+v, want DOWN! from etcd %s@%d", name, got, esamsKey, rev)
		}
	}
	var status struct {
		Etcd struct {
			Connected bool  `json:"connected"`
			Revision  int64 `json:"revision"`
			Entries   int   `json:"entries"`
		} `json:"etcd"`
	}
	statusOut, _, _ := runAuthdns(t, "ctl", "--control", filepath.Join(s.dir, "control.sock"), "status")
	if err := json.Unmarshal([]byte(statusOut), &status); err != nil || !status.Etcd.Connected || status.Etcd.Revision < rev || status.Etcd.Entries != 1 {
		t.Errorf("ctl status etcd: %+v (%v)\n%s", status.Etcd, err, statusOut)
	}
	m := scrape(t, metrics)
	if m["authdns_etcd_connected"] != 1 || m["authdns_etcd_revision"] < float64(rev) {
		t.Errorf("etcd metrics: connected %v revision %v", m["authdns_etcd_connected"], m["authdns_etcd_revision"])
	}

	// The local file wins for the same key, and gives it back when its
	// line goes.
	writeAdmin(t, s, "site/esams => UP\n")
	waitEU(t, s, esamsAddr)
	out, _, _ = runAuthdns(t, "states", "--config", cfg)
	if got := parseStates(t, out)["site/esams"]; got.State != "UP!" || got.Source != "file" || got.Line != 1 {
		t.Errorf("with the file's override: site/esams %+v", got)
	}
	writeAdmin(t, s, "")
	waitEU(t, s, drmrsAddr)

	// A value that does not parse is ignored, named by its key; the
	// previous value stays.
	from := len(s.Logs())
	put(t, cli, esamsKey, `{"state": "sideways"}`)
	s.WaitLog(from, "key="+esamsKey)
	if !strings.Contains(s.Logs()[from:], "ignoring a value that does not parse") {
		t.Errorf("the warning does not say the value was ignored:\n%s", s.Logs()[from:])
	}
	if got := euAnswer(t, s); got != drmrsAddr {
		t.Errorf("after a garbage value the EU client gets %s, want drmrs (the previous DOWN)", got)
	}
	waitMetric(t, metrics, "authdns_etcd_rejected_values_total", 1)

	// etcd down: the last state keeps answering, reported disconnected;
	// the one-shot states says it could not read etcd.
	e.Stop()
	waitMetric(t, metrics, "authdns_etcd_connected", 0)
	if got := euAnswer(t, s); got != drmrsAddr {
		t.Errorf("with etcd down the EU client gets %s, want drmrs (the last state)", got)
	}
	out, errOut, code = runAuthdns(t, "states", "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "etcd not read") || parseStates(t, out)["site/esams"].State != "UP" {
		t.Errorf("authdns states with etcd down: exit %d, stderr %q, site/esams %+v", code, errOut, parseStates(t, out)["site/esams"])
	}

	// etcd back: a change made now applies.
	e.Restart(t)
	put(t, cli, esamsKey, `{"state":"up"}`)
	waitEU(t, s, esamsAddr)
	waitMetric(t, metrics, "authdns_etcd_connected", 1)
}

// authdns starts and serves while etcd is down, and applies etcd's state
// once it answers.
func TestEtcdDownAtStart(t *testing.T) {
	e := testetcd.Start(t)
	cli := e.Client(t)
	put(t, cli, esamsKey, `{"state":"down"}`)
	e.Stop()
	metrics := testutil.FreeAddr(t)
	s := startServerWith(t, "metrics: "+metrics+"\netcd: {endpoints: [\""+e.Endpoint()+"\"]}\n", "")
	if got := euAnswer(t, s); got != esamsAddr {
		t.Fatalf("with etcd never read the EU client gets %s, want esams", got)
	}
	waitMetric(t, metrics, "authdns_etcd_connected", 0)
	e.Restart(t)
	waitEU(t, s, drmrsAddr)
}
