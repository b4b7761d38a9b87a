package etcde2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/geotraffic/geotraffic/internal/testetcd"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

// benchTrials is how many changes each latency benchmark times.
const benchTrials = 20

// trials times each change twice: from the start of the confctl command
// (which reads etcd and checks the whole routing before it writes), and
// from the moment the write reached a watcher of this benchmark.
type trials struct{ total, fromWrite []time.Duration }

func (tr *trials) add(start, written, done time.Time) {
	tr.total = append(tr.total, done.Sub(start))
	tr.fromWrite = append(tr.fromWrite, done.Sub(written))
}

// report gives the median and the maximum of both, in milliseconds.
func (tr *trials) report(b *testing.B) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, x := range []struct {
		name string
		ds   []time.Duration
	}{{"confctl", tr.total}, {"write", tr.fromWrite}} {
		slices.Sort(x.ds)
		med, top := ms(x.ds[len(x.ds)/2]), ms(x.ds[len(x.ds)-1])
		b.ReportMetric(med, x.name+"-median-ms")
		b.ReportMetric(top, x.name+"-max-ms")
		b.Logf("%d trials, from %s: median %.1f ms, max %.1f ms", len(x.ds), x.name, med, top)
	}
	b.ReportMetric(0, "ns/op") // a trial's time is what counts, not the loop's
}

// writeTimes stamps every object write under prefix (not the audit log's)
// as this client sees it.
func writeTimes(b *testing.B, cli *clientv3.Client, prefix string) <-chan time.Time {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	wch := cli.Watch(ctx, prefix, clientv3.WithPrefix())
	out := make(chan time.Time, 64)
	go func() {
		for resp := range wch {
			for _, ev := range resp.Events {
				if !strings.Contains(string(ev.Kv.Key), "/log/") {
					out <- time.Now()
				}
			}
		}
	}()
	return out
}

func nextWrite(b *testing.B, ch <-chan time.Time) time.Time {
	select {
	case t := <-ch:
		return t
	case <-time.After(testutil.WaitBound):
		b.Fatal("the write was never seen")
	}
	return time.Time{}
}

// untilAll polls every check (each at most every millisecond) until all
// hold, bounded by testutil.WaitBound; it returns when they did.
func untilAll(b *testing.B, start time.Time, checks ...func() bool) time.Time {
	done := make([]bool, len(checks))
	left := len(checks)
	for left > 0 {
		if time.Since(start) > testutil.WaitBound {
			b.Fatal("a trial did not complete")
		}
		for i, c := range checks {
			if !done[i] && c() {
				done[i] = true
				left--
			}
		}
		if left > 0 {
			time.Sleep(time.Millisecond)
		}
	}
	return time.Now()
}

// BenchmarkConfctlToDaemons times `confctl set` of a site (esams, down and
// up in turn) until every one of three authdns answers the European client
// the new way, and until trafficctl's /routes follows; and `confctl set`
// of a node's pooled until lvsd logs the IPVS operation.
func BenchmarkConfctlToDaemons(b *testing.B) {
	f := startFleet(b, 3)
	writes := writeTimes(b, f.etcd.Client(b), "/conftool/v1/")
	b.Run("authdns-x3", func(b *testing.B) {
		var tr trials
		for i := range benchTrials {
			state, want := "down", drmrsAddr
			if i%2 == 1 {
				state, want = "up", esamsAddr
			}
			start := time.Now()
			if r := f.confctl("--object-type", "site", "select", "name=esams", "set/state="+state); r.code != 0 {
				b.Fatal(r)
			}
			var checks []func() bool
			for _, s := range f.authdns {
				checks = append(checks, func() bool { return euAnswer(b, s) == want })
			}
			done := untilAll(b, start, checks...)
			tr.add(start, nextWrite(b, writes), done)
		}
		tr.report(b)
	})
	b.Run("trafficctl-routes", func(b *testing.B) {
		var tr trials
		for i := range benchTrials {
			state, avoid := "down", true
			if i%2 == 1 {
				state, avoid = "up", false
			}
			start := time.Now()
			if r := f.confctl("--object-type", "site", "select", "name=esams", "set/state="+state); r.code != 0 {
				b.Fatal(r)
			}
			done := untilAll(b, start, func() bool { return f.routesAvoid("esams") == avoid })
			tr.add(start, nextWrite(b, writes), done)
		}
		tr.report(b)
	})
	b.Run("lvsd-ipvs-op", func(b *testing.B) {
		var tr trials
		del := `op="-d -t ` + vip + ` -r ` + hostAddrs["mw1001.eqiad.wmnet"] + `:80"`
		add := `op="-a -t ` + vip + ` -r ` + hostAddrs["mw1001.eqiad.wmnet"] + `:80`
		for i := range benchTrials {
			pooled, line := "no", del
			if i%2 == 1 {
				pooled, line = "yes", add
			}
			before := strings.Count(f.lvsd.Logs(), line)
			start := time.Now()
			if r := f.confctl("select", "dc=eqiad,cluster=appserver,service=apache2,name=mw1001.*", "set/pooled="+pooled); r.code != 0 {
				b.Fatal(r)
			}
			done := untilAll(b, start, func() bool { return strings.Count(f.lvsd.Logs(), line) > before })
			tr.add(start, nextWrite(b, writes), done)
		}
		tr.report(b)
	})
}

// BenchmarkLvsdWatch10k measures lvsd following one service of 10,000
// node objects while 100 changes a second arrive for 10 seconds: its CPU
// (user+system, as a share of one CPU) and its peak resident memory.
func BenchmarkLvsdWatch10k(b *testing.B) {
	const nodes, rate, seconds = 10000, 100, 10
	e := testetcd.Start(b)
	cli := e.Client(b)
	prefix := "/conftool/v1/pools/eqiad/appserver/apache2/"
	name := func(i int) string { return fmt.Sprintf("127.%d.%d.%d", 100+i/65536, i/256%256, i%256) }
	for i := 0; i < nodes; i += 100 {
		var ops []clientv3.Op
		for j := i; j < i+100; j++ {
			ops = append(ops, clientv3.OpPut(prefix+name(j), `{"weight":10,"pooled":"yes"}`))
		}
		if _, err := cli.Txn(context.Background()).Then(ops...).Commit(); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	port := testutil.FreePort(b)
	conf := "[global]\ninstrumentation = yes\ninstrumentation_port = " + port + "\ninstrumentation_ips = [\"127.0.0.1\"]\nbgp = no\n\n" +
		"[apache2_80]\nprotocol = tcp\nip = 10.2.3.1\nport = 80\nscheduler = wrr\nconfig = etcd://" +
		strings.TrimPrefix(e.Endpoint(), "http://") + prefix + "\ndepool-threshold = .5\n"
	writeFile(b, filepath.Join(dir, "pybal.conf"), conf)
	p := start(b, "lvsd", exec.Command(filepath.Join(binDir, "lvsd"), "--config", filepath.Join(dir, "pybal.conf"), "--dry-run", "--no-bgp"),
		func(line string) bool { return strings.Contains(line, "lvsd started") })
	t0 := time.Now()
	for strings.Count(p.Logs(), `op="-a -t 10.2.3.1:80`) < nodes {
		if time.Since(t0) > 5*time.Minute {
			b.Fatalf("lvsd did not pool %d servers in 5 minutes", nodes)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.ReportMetric(time.Since(t0).Seconds(), "initial-pool-s")
	pid := p.Pid()
	cpu0 := cpuTime(b, pid)
	t0 = time.Now()
	tick := time.NewTicker(time.Second / rate)
	for i := range rate * seconds {
		<-tick.C
		w := 10 + i%2
		put(b, cli, prefix+name(i%nodes), `{"weight":`+strconv.Itoa(w)+`,"pooled":"yes"}`)
	}
	tick.Stop()
	cpu := cpuTime(b, pid) - cpu0
	elapsed := time.Since(t0)
	b.ReportMetric(100*cpu.Seconds()/elapsed.Seconds(), "cpu-%")
	b.ReportMetric(float64(peakRSS(b, pid))/(1<<20), "peak-rss-MiB")
	b.ReportMetric(0, "ns/op")
}

// cpuTime is a process's user+system time from /proc/PID/stat.
func cpuTime(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// peakRSS is VmHWM in bytes.
func peakRSS(b *testing.B, pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
