package authdns

import (
	"log/slog"
	"testing"

	"github.com/geotraffic/geotraffic/dnsserver/rrl"
)

// A reload keeps the limiter (and its accounts) when the rrl settings are
// unchanged, makes a new one when they change, and drops it when the
// section goes; the counters carry on across limiters.
func TestReloadKeepsOrReplacesLimiter(t *testing.T) {
	d := &Daemon{log: slog.New(slog.DiscardHandler)}
	on := &rrl.Config{ResponsesPerSecond: 5, Window: 15, Slip: 2, IPv4Prefix: 24, IPv6Prefix: 56, TableSize: 100}
	st := d.withRRL(&State{Config: &Config{RRL: on}})
	d.state.Store(st)
	first := st.RRL
	if first == nil || st.Snapshot().RRL != first {
		t.Fatal("rrl set, yet the snapshot has no limiter")
	}
	same := *on
	st = d.withRRL(&State{Config: &Config{RRL: &same}})
	if st.RRL != first {
		t.Fatal("a reload with the same settings replaced the limiter (and lost its accounts)")
	}
	changed := same
	changed.LogOnly = true
	st = d.withRRL(&State{Config: &Config{RRL: &changed}})
	if st.RRL == first || st.RRL == nil || !st.RRL.Config().LogOnly {
		t.Fatal("changed settings must make a new limiter")
	}
	if st.RRL.Stats() != first.Stats() {
		t.Fatal("counters must outlast a limiter")
	}
	d.state.Store(st)
	if st = d.withRRL(&State{Config: &Config{}}); st.RRL != nil || st.Snapshot().RRL != nil {
		t.Fatal("without rrl the answer path must not limit")
	}
}
