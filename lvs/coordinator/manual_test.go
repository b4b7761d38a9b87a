package coordinator

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/lvs/ipvs"
)

// A manual depool takes the server out at once and shows who and why;
// a repool brings it back.
func TestManualDepoolRepool(t *testing.T) {
	f := newFixture(t, .5, false, hosts(4)...)
	if err := f.c.Depool("mw02", Manual{User: "alice", Reason: "disk dying"}); err != nil {
		t.Fatal(err)
	}
	if got := f.pooledHosts(); got != "mw01 mw03 mw04" {
		t.Errorf("pooled %q", got)
	}
	s, _ := f.c.Server("mw02")
	if s.Manual == nil || s.Manual.String() != "manually depooled by alice: disk dying" || s.Enabled {
		t.Errorf("server %+v", s)
	}
	if !strings.Contains(f.log.String(), "Server mw02 manually depooled by alice: disk dying") {
		t.Errorf("log:\n%s", f.log)
	}
	// A pool update enabling it changes nothing while the depool holds.
	f.c.UpdatePool(poolOf("y y y y"))
	if got := f.pooledHosts(); got != "mw01 mw03 mw04" {
		t.Errorf("after a pool update: pooled %q", got)
	}
	if err := f.c.Repool("mw02"); err != nil {
		t.Fatal(err)
	}
	if got := f.pooledHosts(); got != "mw01 mw02 mw03 mw04" {
		t.Errorf("after repool: pooled %q", got)
	}
	if err := f.c.Repool("mw02"); !errors.Is(err, ErrNotDepooled) {
		t.Errorf("second repool: %v", err)
	}
	if err := f.c.Depool("mw09", Manual{User: "alice"}); !errors.Is(err, ErrNoServer) {
		t.Errorf("unknown host: %v", err)
	}
}

// Without --force the threshold refuses a depool that takes too much
// capacity, and changes nothing; with it the server leaves and stays out
// even when the threshold would need it.
func TestManualDepoolThreshold(t *testing.T) {
	f := newFixture(t, .7, false, hosts(4)...)
	f.c.MonitorResult("mw01", "ProxyFetch", false, "x")
	var te *ThresholdError
	if err := f.c.Depool("mw02", Manual{User: "bob"}); !errors.As(err, &te) {
		t.Fatalf("depool below the threshold: %v", err)
	}
	if got := f.pooledHosts(); got != "mw02 mw03 mw04" {
		t.Errorf("a refused depool changed the pool: %q", got)
	}
	if len(f.c.Manuals()) != 0 {
		t.Errorf("a refused depool was recorded: %v", f.c.Manuals())
	}
	if err := f.c.Depool("mw02", Manual{User: "bob", Force: true}); err != nil {
		t.Fatal(err)
	}
	// Another one down: the threshold forces servers back, never mw02.
	f.c.MonitorResult("mw03", "ProxyFetch", false, "x")
	f.c.UpdatePool(poolOf("y y y y"))
	if got := f.pooledHosts(); strings.Contains(got, "mw02") {
		t.Errorf("a forced depool was pooled again: %q\n%s", got, f.log)
	}
	if d := f.c.Desired(); len(d.Destinations) == 0 {
		t.Errorf("no destination left")
	}
}

// The state file carries the depools across a restart: a new coordinator
// restored from it before its first pool keeps the server out.
func TestManualStatePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "manual-depools.json")
	f := newFixture(t, .5, false, hosts(4)...)
	since := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	if err := f.c.Depool("mw03", Manual{User: "root", Reason: "r", Since: since}); err != nil {
		t.Fatal(err)
	}
	if err := (ManualState{"text_443": f.c.Manuals()}).Save(path); err != nil {
		t.Fatal(err)
	}
	st, err := LoadManualState(path)
	if err != nil {
		t.Fatal(err)
	}
	g := &fixture{log: f.log, reg: f.reg}
	g.c = New(f.c.Settings(), f.c.log, nil, nil)
	g.c.RestoreManual(st["text_443"])
	g.c.UpdatePool(poolOf("y y y y"))
	for _, h := range hosts(4) {
		g.c.SetResolved(h, f.c.servers[h].Addr)
	}
	if got := g.pooledHosts(); got != "mw01 mw02 mw04" {
		t.Errorf("after restart: pooled %q", got)
	}
	if s, _ := g.c.Server("mw03"); s.Manual == nil || !s.Manual.Since.Equal(since) {
		t.Errorf("after restart: %+v", s.Manual)
	}
	if st, err := LoadManualState(filepath.Join(t.TempDir(), "none")); err != nil || len(st) != 0 {
		t.Errorf("missing file: %v %v", st, err)
	}
	if _, err := ParseManualState("f.json", []byte(`{"s":{"h":{"reason":"x"}}}`)); err == nil || !strings.Contains(err.Error(), "f.json") {
		t.Errorf("entry without a user: %v", err)
	}
}

func FuzzParseManualState(f *testing.F) {
	f.Add([]byte(`{"text_443":{"mw01":{"user":"root","reason":"x","since":"2026-12-06T20:00:00Z"}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseManualState("f", b)
		if err == nil {
			for _, hs := range st {
				for h, m := range hs {
					if h == "" || m.User == "" {
						t.Fatal("invalid entry accepted")
					}
				}
			}
		}
	})
}

// After a restart the kernel's state is adopted until the first check,
// except for a manually depooled server: it stays out of IPVS.
func TestManualDepoolNotAdopted(t *testing.T) {
	f := &fixture{log: &bytes.Buffer{}}
	set := Settings{Name: "text_443", Port: 443, DepoolThreshold: .5, Monitors: []string{"ProxyFetch"},
		Service: ipvs.Service{Key: ipvs.ServiceKey{Protocol: ipvs.TCP, Addr: netip.MustParseAddr("10.2.2.1"), Port: 443}}}
	f.c = New(set, slog.New(slog.NewTextHandler(f.log, nil)), nil, nil)
	addrs := map[string]netip.Addr{}
	kernel := map[netip.Addr]uint32{}
	for i, h := range hosts(4) {
		addrs[h] = netip.AddrFrom4([4]byte{10, 64, 0, byte(i + 1)})
		kernel[addrs[h]] = 10
	}
	f.c.Adopt(kernel)
	f.c.RestoreManual(map[string]Manual{"mw02": {User: "root", Force: true}})
	f.c.UpdatePool(poolOf("y y y y"))
	for _, h := range hosts(4) {
		f.c.SetResolved(h, addrs[h])
	}
	for _, d := range f.c.Desired().Destinations {
		if d.Addr == addrs["mw02"] {
			t.Errorf("the manually depooled server kept its adopted IPVS entry: %+v", f.c.Desired())
		}
	}
	if n := len(f.c.Desired().Destinations); n != 3 {
		t.Errorf("%d destinations, want the 3 adopted", n)
	}
}
