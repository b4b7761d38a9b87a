package updatee2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/authdns"
)

// load sends queries one at a time per goroutine (UDP and TCP) until
// stopped, at most perWorker each and 60 s in all, counting those that got
// no NOERROR answer.
type load struct {
	stop             chan struct{}
	wg               sync.WaitGroup
	sent, unanswered atomic.Int64
}

func startLoad(addr string, perWorker int) *load {
	l := &load{stop: make(chan struct{})}
	deadline := time.Now().Add(60 * time.Second)
	for _, network := range []string{"udp", "udp", "tcp"} {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			c := &dns.Client{Net: network, Timeout: 2 * time.Second}
			m := new(dns.Msg)
			m.SetQuestion("static.example.org.", dns.TypeA)
			for i := 0; i < perWorker && time.Now().Before(deadline); i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				l.sent.Add(1)
				if r, _, err := c.Exchange(m, addr); err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
					l.unanswered.Add(1)
				}
			}
		}()
	}
	return l
}

func (l *load) finish() (sent, unanswered int64) {
	close(l.stop)
	l.wg.Wait()
	return l.sent.Load(), l.unanswered.Load()
}

// reloadLoop reloads the server n times, every interval, through the
// control API, changing the zone serial each time; on reload addAt it also
// adds a listen address. It returns the successful reloads.
func reloadLoop(t testing.TB, s *server, n, addAt int, interval time.Duration) int {
	c := authdns.NewClient(s.control, "", 30*time.Second)
	zone := filepath.Join(s.dir, "data", "zones", "example.org")
	orig, _ := os.ReadFile(zone)
	ok := 0
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 0; i < n; i++ {
		<-tick.C
		os.WriteFile(zone, []byte(strings.Replace(string(orig), "2026112101", fmt.Sprint(2026112200+i), 1)), 0o644)
		if i == addAt {
			cfg := filepath.Join(s.dir, "authdns.yaml")
			b, _ := os.ReadFile(cfg)
			os.WriteFile(cfg, []byte(strings.Replace(string(b), `listen: ["127.0.0.1:0"]`, `listen: ["127.0.0.1:0", "[::1]:0"]`, 1)), 0o644)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := c.Raw(ctx, "POST", "/v1/reload"); err != nil {
			t.Errorf("reload %d: %v", i, err)
		} else {
			ok++
		}
		cancel()
	}
	return ok
}

func TestReloadEvery100msLosesNoQuery(t *testing.T) {
	s := startServer(t, "")
	l := startLoad(s.addr, 100000)
	const reloads = 30
	ok := reloadLoop(t, s, reloads, reloads/2, 100*time.Millisecond)
	sent, lost := l.finish()
	t.Logf("%d reloads, %d queries, %d unanswered", ok, sent, lost)
	if ok != reloads {
		t.Errorf("%d of %d reloads succeeded", ok, reloads)
	}
	if sent == 0 {
		t.Fatal("the load sent nothing")
	}
	if lost != 0 {
		t.Errorf("%d of %d queries went unanswered during reloads", lost, sent)
	}
	if got := s.dig("example.org", "SOA"); !strings.Contains(got, fmt.Sprint(2026112200+reloads-1)) {
		t.Errorf("the last reload is not served: %s", got)
	}
	if !strings.Contains(s.Logs(), "msg=listening udp=[::1]:") {
		t.Errorf("the added listen address was not opened:\n%s", s.Logs())
	}
	if n := strings.Count(s.Logs(), `msg="reload complete"`); n != reloads {
		t.Errorf("%d reload log lines, want one per reload (%d)", n, reloads)
	}
}

// BenchmarkLostQueriesUnderReload reports unanswered queries while the
// server reloads every 100 ms (the figure the README quotes; it should be 0).
func BenchmarkLostQueriesUnderReload(b *testing.B) {
	s := startServer(b, "")
	var sent, lost int64
	for i := 0; i < b.N; i++ {
		l := startLoad(s.addr, 1000000)
		reloadLoop(b, s, 20, -1, 100*time.Millisecond)
		n, m := l.finish()
		sent += n
		lost += m
	}
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(sent)/float64(b.N), "queries/op")
}
