package bgpe2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/lvs/bgp"
)

// The benchmarks time the path from a decision in lvsd to the route
// leaving BIRD's table: the moment SetRoutes or Stop is called, to the
// timestamp of BIRD's "removed" log line (millisecond resolution, same
// clock). BIRD's timestamps are truncated to the millisecond, so each
// figure is an upper bound: logged millisecond + 1 ms - call time.

// benchEnv gates the benchmarks: each takes seconds and starts BIRD (and
// the lvsd ones build and run lvsd), so `make bench`'s generic
// `go test -bench . ./...` skips them and scripts/bench-bgp.sh, which sets
// it, runs them with its own round counts.
const benchEnv = "BGP_BENCH"

func gate(b *testing.B) {
	b.Helper()
	if os.Getenv(benchEnv) == "" {
		b.Skipf("BGP benchmarks run from scripts/bench-bgp.sh (set %s=1 to run them here)", benchEnv)
	}
}

var removedRE = regexp.MustCompile(`^<TRACE> lvs1\.ipv4 > removed .*10\.2\.2\.1/32 `)

// removedAfter waits for BIRD's first removal of vip4 from lvs1 logged at
// or after t0 (truncated to BIRD's milliseconds) and returns the delay.
func removedAfter(b testing.TB, bird *Bird, t0 time.Time) time.Duration {
	var d time.Duration
	Eventually(b, 10*time.Second, "BIRD to log the withdraw", func() (bool, string) {
		lines, _ := bird.Log()
		for _, l := range lines {
			if !l.Time.Before(t0.Truncate(time.Millisecond)) && removedRE.MatchString(l.Text) {
				d = l.Time.Add(time.Millisecond).Sub(t0)
				return true, ""
			}
		}
		return false, "no removal logged yet"
	})
	return d
}

func report(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(ds[len(ds)/2]), "ms-median-upper")
	b.ReportMetric(ms(ds[len(ds)-1]), "ms-max-upper")
}

// BenchmarkSetRoutesWithdrawToBird: a health decision (SetRoutes without
// the VIP) until BIRD drops the route; the session stays up.
func BenchmarkSetRoutesWithdrawToBird(b *testing.B) {
	gate(b)
	port := FreePort(b)
	bird := StartBird(b, BirdConfig{RouterID: "10.255.0.1", Address: "127.0.0.1", Port: port, ASN: routerASN,
		Peers: []BirdPeer{{Name: "lvs1", Address: "127.0.0.2", ASN: directorASN}}})
	s := startSpeaker(b, director(2, port, b))
	ctx := context.Background()
	var ds []time.Duration
	for i := 0; i < b.N; i++ {
		if err := s.SetRoutes(ctx, []bgp.Route{{Prefix: vip4}}); err != nil {
			b.Fatal(err)
		}
		Eventually(b, 30*time.Second, "route in BIRD", func() (bool, string) {
			_, ok := bird.Best(vip4.String())
			return ok, ""
		})
		t0 := time.Now()
		if err := s.SetRoutes(ctx, nil); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, removedAfter(b, bird, t0))
		time.Sleep(5 * time.Millisecond) // keep the next removal in a later millisecond
	}
	report(b, ds)
}

// BenchmarkStopWithdrawToBird: Stop (SIGTERM in lvsd) until BIRD drops the
// route; each op starts a fresh speaker, so an op takes a few seconds.
func BenchmarkStopWithdrawToBird(b *testing.B) {
	gate(b)
	port := FreePort(b)
	bird := StartBird(b, BirdConfig{RouterID: "10.255.0.1", Address: "127.0.0.1", Port: port, ASN: routerASN,
		Peers: []BirdPeer{{Name: "lvs1", Address: "127.0.0.2", ASN: directorASN}}})
	var ds, stops []time.Duration
	for i := 0; i < b.N; i++ {
		s := startSpeaker(b, director(2, port, b))
		if err := s.SetRoutes(context.Background(), []bgp.Route{{Prefix: vip4}}); err != nil {
			b.Fatal(err)
		}
		Eventually(b, 30*time.Second, "route in BIRD", func() (bool, string) {
			_, ok := bird.Best(vip4.String())
			return ok, ""
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		t0 := time.Now()
		err := s.Stop(ctx)
		stops = append(stops, time.Since(t0))
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		ds = append(ds, removedAfter(b, bird, t0))
		time.Sleep(5 * time.Millisecond)
	}
	report(b, ds)
	slices.Sort(stops)
	// Stop returns once the withdrawals are confirmed sent, the Cease is
	// sent and the sessions are closed.
	b.ReportMetric(float64(stops[len(stops)/2].Microseconds())/1000, "ms-stop-returns")
}

// The lvsd benchmarks run the real binary (--dry-run) against BIRD, like
// the end-to-end tests.

var lvsdTimeRE = regexp.MustCompile(`(?m)^time=(\S+) level=ERROR msg="\[web_\d+\] Monitoring instance ProxyFetch reports server \S+ \(enabled/up/pooled\) down`)

// BenchmarkLvsdHealthDownToBird: the backend dies; the figure runs from
// lvsd's monitor logging the server down (the health decision) to BIRD
// removing the VIP (bgp-withdraw-on-down).
func BenchmarkLvsdHealthDownToBird(b *testing.B) {
	gate(b)
	bird, port := twoDirectors(b)
	be := startBackend(b)
	p := startLvsd(b, 2, port, 0, be)
	var ds []time.Duration
	for i := 0; i < b.N; i++ {
		waitBest(b, bird, vip4, "lvs1", 0)
		seen := len(lvsdTimeRE.FindAllStringSubmatch(p.out.String(), -1))
		t0 := time.Now()
		be.kill()
		var decided time.Time
		Eventually(b, 30*time.Second, "lvsd to log the server down", func() (bool, string) {
			m := lvsdTimeRE.FindAllStringSubmatch(p.out.String(), -1)
			if len(m) <= seen {
				return false, ""
			}
			var err error
			decided, err = time.Parse(time.RFC3339Nano, m[seen][1])
			return err == nil, fmt.Sprint(err)
		})
		if decided.Before(t0) { // clock granularity: the kill came first
			decided = t0
		}
		ds = append(ds, removedAfter(b, bird, decided))
		be.revive(b)
	}
	report(b, ds)
}

// BenchmarkLvsdSigtermToBird: SIGTERM to a running lvsd until BIRD
// removes its VIP.
func BenchmarkLvsdSigtermToBird(b *testing.B) {
	gate(b)
	bird, port := twoDirectors(b)
	be := startBackend(b)
	var ds []time.Duration
	for i := 0; i < b.N; i++ {
		p := startLvsd(b, 2, port, 0, be)
		waitBest(b, bird, vip4, "lvs1", 0)
		t0 := time.Now()
		p.term(b)
		ds = append(ds, removedAfter(b, bird, t0))
		time.Sleep(5 * time.Millisecond)
	}
	report(b, ds)
}
