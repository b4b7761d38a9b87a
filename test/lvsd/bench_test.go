package lvsde2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// BenchmarkPoolChangeToIPVS is the time from a pool file change to the
// dry-run IPVS operation (pool-poll-interval 0.05 s in the test config;
// production's default is 1 s).
func BenchmarkPoolChangeToIPVS(b *testing.B) {
	e := startEnv(b)
	vip := "-t 10.2.2.1:" + e.port
	e.waitLog(fmt.Sprintf(`op="-a %s -r 127.0.0.2:%s -g -w 10"`, vip, e.port))
	pool := filepath.Join(e.dir, "web")
	rest := poolLine("127.0.0.3", 10, true) + poolLine("127.0.0.4", 10, true)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := 11 + i%2*2 // alternate 11 and 13 so every step is a change
		op := fmt.Sprintf(`op="-e %s -r 127.0.0.2:%s -g -w %d"`, vip, e.port, w)
		before := strings.Count(e.log.String(), op)
		testutil.WriteAtomic(b, pool, poolLine("127.0.0.2", w, true)+rest)
		e.waitFor("weight op", func() bool { return strings.Count(e.log.String(), op) > before })
	}
}

// BenchmarkBackendDeathToDepool is the time from a backend dying to its
// depool in IPVS, and back (ProxyFetch interval 0.1 s in the test config;
// PyBal's default is 10 s, which dominates in production).
func BenchmarkBackendDeathToDepool(b *testing.B) {
	e := startEnv(b)
	vip := "-t 10.2.2.1:" + e.port
	del := fmt.Sprintf(`op="-d %s -r 127.0.0.3:%s"`, vip, e.port)
	add := fmt.Sprintf(`op="-a %s -r 127.0.0.3:%s -g -w 10"`, vip, e.port)
	e.waitLog(add)
	var down, up time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		nd, na := strings.Count(e.log.String(), del), strings.Count(e.log.String(), add)
		t0 := time.Now()
		e.backends["127.0.0.3"].kill()
		e.waitFor("depool", func() bool { return strings.Count(e.log.String(), del) > nd })
		t1 := time.Now()
		e.backends["127.0.0.3"].start(b)
		e.waitFor("repool", func() bool { return strings.Count(e.log.String(), add) > na })
		down, up = down+t1.Sub(t0), up+time.Since(t1)
	}
	b.ReportMetric(float64(down.Milliseconds())/float64(b.N), "ms-to-depool")
	b.ReportMetric(float64(up.Milliseconds())/float64(b.N), "ms-to-repool")
}
