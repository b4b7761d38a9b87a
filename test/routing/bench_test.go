package routinge2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/geotraffic/geotraffic/routing"
)

// BenchmarkServeChangeToRoutes measures, on the real `trafficctl serve`
// with the safety-net poll off, the time from an admin_state rename to
// /routes/text/ulsfo showing the new path: the "re-resolves within a
// second" figure of the README. Each iteration toggles codfw DOWN and UP.
func BenchmarkServeChangeToRoutes(b *testing.B) {
	dir := b.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(b, rp, exampleConfig(b))
	testutil.WriteAtomic(b, ap, "")
	s := serve(b, "--routing", rp, "--admin-state", ap)
	client := &http.Client{Timeout: 5 * time.Second}
	ulsfoPath := func() string {
		resp, err := client.Get(s.url + "/routes/text/ulsfo")
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			b.Fatal(err)
		}
		var r routing.Result
		if err := json.Unmarshal(body, &r); err != nil {
			b.Fatalf("%v: %s", err, body)
		}
		return strings.Join(r.Path, " ")
	}
	states := []struct{ file, path string }{
		{"site/codfw => DOWN\n", "ulsfo eqiad"},
		{"", "ulsfo codfw eqiad"},
	}
	var worst time.Duration
	var total time.Duration
	i := 0
	for b.Loop() {
		st := states[i%2]
		i++
		start := time.Now()
		testutil.WriteAtomic(b, ap, st.file)
		// Bounded: a change that never shows fails the benchmark.
		for deadline := start.Add(10 * time.Second); ulsfoPath() != st.path; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("/routes did not follow admin_state within 10 s:\n%s", s.logText())
			}
		}
		d := time.Since(start)
		total += d
		worst = max(worst, d)
	}
	if i > 0 {
		b.ReportMetric(float64(total.Microseconds())/float64(i)/1000, "ms/change")
		b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
		b.Logf("admin_state rename to /routes change, poll off: mean %v, worst %v over %d changes", total/time.Duration(i), worst, i)
	}
}

// BenchmarkServeEtcdChangeToRoutes is the same loop for etcd: from a put
// of /conftool/v1/sites/codfw (as `confctl ... set/state=down` writes it)
// to /routes/text/ulsfo showing the new path, on a real etcd.
func BenchmarkServeEtcdChangeToRoutes(b *testing.B) {
	e := testetcd.Start(b)
	c := e.Client(b)
	dir := b.TempDir()
	rp, ap := filepath.Join(dir, "routing.yaml"), filepath.Join(dir, "admin_state")
	testutil.WriteAtomic(b, rp, exampleConfig(b))
	s := serve(b, "--routing", rp, "--admin-state", ap, "--etcd", e.Endpoint())
	states := []struct{ value, path string }{
		{`{"state":"down"}`, "ulsfo eqiad"},
		{`{"state":"up"}`, "ulsfo codfw eqiad"},
	}
	var worst, total time.Duration
	i := 0
	for b.Loop() {
		st := states[i%2]
		i++
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.Put(ctx, "/conftool/v1/sites/codfw", st.value)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		// Bounded: a change that never shows fails the benchmark.
		for deadline := start.Add(10 * time.Second); benchPath(b, s) != st.path; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("/routes did not follow etcd within 10 s:\n%s", s.logText())
			}
		}
		d := time.Since(start)
		total += d
		worst = max(worst, d)
	}
	if i > 0 {
		b.ReportMetric(float64(total.Microseconds())/float64(i)/1000, "ms/change")
		b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
		b.Logf("etcd put to /routes change: mean %v, worst %v over %d changes", total/time.Duration(i), worst, i)
	}
}

func benchPath(b *testing.B, s *server) string {
	resp, err := http.Get(s.url + "/routes/text/ulsfo")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var r routing.Result
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		b.Fatal(err)
	}
	return strings.Join(r.Path, " ")
}
