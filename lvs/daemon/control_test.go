package daemon

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/lvs/coordinator"
	"github.com/prometheus/client_golang/prometheus"
)

const ctlConf = `[global]
pool-poll-interval = 0.02
control-socket = DIR/run/ctl.sock
manual-depool-state = STATE

[web_80]
protocol = tcp
ip = 10.2.2.1
port = 80
scheduler = wrr
config = file://DIR/web
depool-threshold = .5
`

func startCtl(t *testing.T, state string) *harness {
	t.Helper()
	h := &harness{dir: t.TempDir(), dir2: &fakeDirector{}}
	h.conf = filepath.Join(h.dir, "pybal.conf")
	testutil.WriteAtomic(t, filepath.Join(h.dir, "web"), line("127.0.0.2", 10, true)+line("127.0.0.3", 10, true)+line("127.0.0.4", 10, true))
	testutil.WriteAtomic(t, h.conf, strings.NewReplacer("STATE", state, "DIR", h.dir).Replace(ctlConf))
	h.d, h.stop = runDaemon(t, Options{ConfigPath: h.conf, Director: h.dir2, Registry: prometheus.NewRegistry()})
	testutil.WaitFor(t, "three pooled", func() bool { return h.dir2.dests("-t 10.2.2.1:80") != "" && countPooled(h.d) == 3 })
	return h
}

func countPooled(d *Daemon) int {
	pools := d.Pools()
	if len(pools) == 0 {
		return -1
	}
	n := 0
	for _, s := range pools[0].Servers {
		if s.Pooled {
			n++
		}
	}
	return n
}

// A depool whose state file cannot be written is undone and reported: the
// server stays pooled, so nothing is in force that a restart would lose.
func TestDepoolUnsavedIsUndone(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "blocker")
	h := startCtl(t, filepath.Join(blocker, "state.json"))
	// Its directory becomes a file: the state cannot be written.
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := h.d.Depool(CtlRequest{Service: "web_80", Host: "127.0.0.3", Reason: "x"}, "alice")
	if err == nil || !strings.Contains(err.Error(), "depool undone: ") {
		t.Fatalf("depool with an unwritable state file: %v", err)
	}
	if n := countPooled(h.d); n != 3 {
		t.Errorf("%d pooled after an undone depool", n)
	}
	if _, err := h.d.Depool(CtlRequest{Service: "nope", Host: "127.0.0.3"}, "alice"); !errors.Is(err, errNoService) {
		t.Errorf("unknown service: %v", err)
	}
}

// A state file that cannot be parsed stops the start with its path; a
// good one is in force before the first pool.
func TestManualStateAtStart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	testutil.WriteAtomic(t, state, "{not json")
	dir := t.TempDir()
	conf := filepath.Join(dir, "pybal.conf")
	testutil.WriteAtomic(t, filepath.Join(dir, "web"), line("127.0.0.2", 10, true))
	testutil.WriteAtomic(t, conf, strings.NewReplacer("STATE", state, "DIR", dir).Replace(ctlConf))
	d, err := New(Options{ConfigPath: conf, Director: &fakeDirector{}, Registry: prometheus.NewRegistry(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(context.Background()); err == nil || !strings.Contains(err.Error(), state) {
		t.Errorf("bad state file: %v", err)
	}

	st := coordinator.ManualState{"web_80": {"127.0.0.3": {User: "bob", Reason: "r"}}}
	if err := st.Save(state); err != nil {
		t.Fatal(err)
	}
	h := &harness{dir: t.TempDir(), dir2: &fakeDirector{}}
	testutil.WriteAtomic(t, filepath.Join(h.dir, "web"), line("127.0.0.2", 10, true)+line("127.0.0.3", 10, true)+line("127.0.0.4", 10, true))
	h.conf = filepath.Join(h.dir, "pybal.conf")
	testutil.WriteAtomic(t, h.conf, strings.NewReplacer("STATE", state, "DIR", h.dir).Replace(ctlConf))
	h.d, h.stop = runDaemon(t, Options{ConfigPath: h.conf, Director: h.dir2, Registry: prometheus.NewRegistry()})
	testutil.WaitFor(t, "two pooled", func() bool { return countPooled(h.d) == 2 && len(h.d.Pools()[0].Servers) == 3 })
	if strings.Contains(h.dir2.dests("-t 10.2.2.1:80"), "127.0.0.3") {
		t.Errorf("the depooled server is in IPVS: %s", h.dir2.dests("-t 10.2.2.1:80"))
	}
	if _, err := h.d.Repool(CtlRequest{Service: "web_80", Host: "127.0.0.3"}, "bob"); err != nil {
		t.Fatal(err)
	}
	got, err := coordinator.LoadManualState(state)
	if err != nil || len(got) != 0 {
		t.Errorf("state after repool: %v %v", got, err)
	}
}
