package authdnse2e

import (
	"slices"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testetcd"
)

// BenchmarkEtcdToAnswer times an etcd put of esams's site object to the
// first changed answer for a European client, alternately down and up:
// etcd's commit, the watch event, the state swap and the query included.
// go test -run '^$' -bench EtcdToAnswer -benchtime 30x ./test/authdns
func BenchmarkEtcdToAnswer(b *testing.B) {
	e := testetcd.Start(b)
	cli := e.Client(b)
	s := startServerWith(b, "etcd: {endpoints: [\""+e.Endpoint()+"\"]}\n", "")
	want := map[bool]string{true: drmrsAddr, false: esamsAddr}
	var took []time.Duration
	b.ResetTimer()
	for i := range b.N {
		down := i%2 == 0
		value := `{"state":"up"}`
		if down {
			value = `{"state":"down"}`
		}
		start := time.Now()
		put(b, cli, esamsKey, value)
		deadline := start.Add(metricBound)
		for euAnswer(b, s) != want[down] {
			if time.Now().After(deadline) {
				b.Fatalf("no changed answer within %v", metricBound)
			}
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(took[0]), "min-ms")
	b.ReportMetric(ms(took[len(took)/2]), "median-ms")
	b.ReportMetric(ms(took[len(took)-1]), "max-ms")
}
