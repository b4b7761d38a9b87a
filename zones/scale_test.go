package zones

import (
	"syscall"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/zones/internal/zonegen"
)

// anyDyn accepts every dynamic target.
type anyDyn struct{}

func (anyDyn) CheckDyn(plugin, res, dc string, dync bool) (any, error) { return res, nil }

// The generated directory is what gdnsd loads: every construct it uses
// loads here without a warning.
func TestGeneratedZonesLoad(t *testing.T) {
	dir := t.TempDir()
	st, err := zonegen.Write(dir, zonegen.Spec{Zones: 12, Bytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	set, err := Load(dir, anyDyn{}, Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Zones()) != st.Zones || st.Files <= st.Zones {
		t.Fatalf("%d zones loaded, %d written in %d files", len(set.Zones()), st.Zones, st.Files)
	}
	records, dyns := 0, 0
	for _, z := range set.Zones() {
		dyns += len(z.Dyns)
		for _, n := range z.nodes {
			records += len(n.Sets)
		}
	}
	if dyns == 0 || records == 0 {
		t.Fatalf("%d dynamic records, %d sets", dyns, records)
	}
}

// BenchmarkLoadProductionSized loads a directory the size of a large
// production deployment (zonegen's defaults: about 30 MB of zone text in
// 400 zones and their includes).
func BenchmarkLoadProductionSized(b *testing.B) {
	dir := b.TempDir()
	st, err := zonegen.Write(dir, zonegen.Spec{})
	if err != nil {
		b.Fatal(err)
	}
	// The CPU time too: on a shared machine the wall time says little.
	cpu := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Load(dir, anyDyn{}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(st.Bytes)/1e6, "MB-text")
	b.ReportMetric(float64(st.Records), "records")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
