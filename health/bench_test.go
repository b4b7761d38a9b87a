package health

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// benchServersEnv makes the test binary serve the bench's loopback
// servers instead of running tests, so the monitor's CPU use is measured
// apart from theirs.
const benchServersEnv = "HEALTH_BENCH_SERVERS"

func TestMain(m *testing.M) {
	if os.Getenv(benchServersEnv) != "" {
		if err := serveBench(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchAddrs are 2,000 loopback addresses: 127.0.1.1-127.0.8.250.
func benchAddrs() []netip.Addr {
	var out []netip.Addr
	for x := 1; x <= 8; x++ {
		for y := 1; y <= 250; y++ {
			out = append(out, netip.AddrFrom4([4]byte{127, 0, byte(x), byte(y)}))
		}
	}
	return out
}

// listenAll listens on one port on every address: the first listener's
// ephemeral port.
func listenAll(addrs []netip.Addr) (uint16, []net.Listener, error) {
	var ls []net.Listener
	var port uint16
	for _, a := range addrs {
		l, err := net.Listen("tcp", netip.AddrPortFrom(a, port).String())
		if err != nil {
			return 0, nil, err
		}
		port = netip.MustParseAddrPort(l.Addr().String()).Port()
		ls = append(ls, l)
	}
	return port, ls, nil
}

// serveBench serves HTTP 200 on one port and accepts-and-closes TCP on
// another of every bench address, prints "HTTPPORT TCPPORT", and serves
// until stdin closes.
func serveBench() error {
	addrs := benchAddrs()
	hp, hls, err := listenAll(addrs)
	if err != nil {
		return err
	}
	tp, tls, err := listenAll(addrs)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })}
	for _, l := range hls {
		go srv.Serve(l)
	}
	for _, l := range tls {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	fmt.Printf("%d %d\n", hp, tp)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// cpuTime is this process's user and system CPU time.
func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// Environment knobs for scripts/bench-health.sh: the check interval
// (default 1s), the measured time (10s) and the service types checked
// ("http,tcp").
const (
	benchIntervalEnv = "HEALTH_BENCH_INTERVAL"
	benchRunEnv      = "HEALTH_BENCH_RUN"
	benchTypesEnv    = "HEALTH_BENCH_TYPES"
)

// envDuration is the duration in the environment variable name, or def.
func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive duration", name, v)
	}
	return d
}

// BenchmarkMonitor2000x2 checks 2,000 loopback addresses with
// http_status and tcp_connect every second for 10 s and reports the
// monitor's CPU use in cores and per check (the servers run in another
// process).
func BenchmarkMonitor2000x2(b *testing.B) {
	if _, err := net.Listen("tcp", "127.0.8.250:0"); err != nil {
		b.Skipf("no loopback range to listen on: %v", err)
	}
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), benchServersEnv+"=1")
	child.Stderr = os.Stderr
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); _ = child.Wait() }()
	var hp, tp uint16
	if _, err := fmt.Fscan(bufio.NewReader(stdout), &hp, &tp); err != nil {
		b.Fatalf("bench servers: %v", err)
	}

	interval, run := envDuration(b, benchIntervalEnv, time.Second), envDuration(b, benchRunEnv, 10*time.Second)
	all := map[string]*ServiceType{
		"http": {Name: "http", Plugin: "http_status", Port: hp, URLPath: "/", OKCodes: []int{200}, Interval: interval, Timeout: interval / 2},
		"tcp":  {Name: "tcp", Plugin: "tcp_connect", Port: tp, Interval: interval, Timeout: interval / 2},
	}
	names := strings.Split(cmp.Or(os.Getenv(benchTypesEnv), "http,tcp"), ",")
	types := map[string]*ServiceType{}
	for _, n := range names {
		if all[n] == nil {
			b.Fatalf("%s: unknown type %q (http, tcp)", benchTypesEnv, n)
		}
		types[n] = all[n]
	}
	var keys []Key
	for _, a := range benchAddrs() {
		for _, n := range names {
			keys = append(keys, Key{a, n})
		}
	}
	reg := prometheus.NewRegistry()
	m := New(Options{Logger: slog.New(slog.DiscardHandler), Registerer: reg})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m.Set(ctx, types, keys)
	done := make(chan struct{})
	go func() { _ = m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	time.Sleep(interval) // every schedule has started
	checks0, t0 := benchChecks(reg), time.Now()
	user0, sys0 := cpuTime()
	b.ResetTimer()
	time.Sleep(run)
	b.StopTimer()
	user1, sys1 := cpuTime()
	checks, wall := benchChecks(reg)-checks0, time.Since(t0).Seconds()
	user, sys := (user1 - user0).Seconds(), (sys1 - sys0).Seconds()
	down := 0
	s := m.Snapshot()
	for _, k := range s.Keys() {
		if st, _ := s.State(k); st.Down {
			down++
		}
	}
	// On loopback the kernel runs both ends of every TCP handshake in
	// the connecting process: sys-cores includes the servers' half.
	b.ReportMetric((user+sys)/wall, "cores")
	b.ReportMetric(user/wall, "user-cores")
	b.ReportMetric(sys/wall, "sys-cores")
	b.ReportMetric(float64(checks)/wall, "checks/s")
	b.ReportMetric(user*1e6/float64(checks), "user-µs/check")
	b.ReportMetric(sys*1e6/float64(checks), "sys-µs/check")
	b.ReportMetric(float64(down), "down")
}

// benchChecks counts the finished checks.
func benchChecks(reg *prometheus.Registry) uint64 {
	mfs, _ := reg.Gather()
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() != "authdns_health_check_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			n += histCount(m)
		}
	}
	return n
}

func histCount(m *dto.Metric) uint64 { return m.GetHistogram().GetSampleCount() }
