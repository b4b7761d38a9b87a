package authdnse2e

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// load queries the server from two goroutines until stopped (at most
// 200000 queries or 60 s), counting queries that got no answer.
type load struct {
	stop             chan struct{}
	wg               sync.WaitGroup
	sent, unanswered atomic.Int64
}

func startLoad(addr, name string, qtype uint16, subnet string) *load {
	l := &load{stop: make(chan struct{})}
	deadline := time.Now().Add(60 * time.Second)
	for g := 0; g < 2; g++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; i < 100000 && time.Now().Before(deadline); i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				l.sent.Add(1)
				if r, err := ask(addr, "udp", name, qtype, subnet); err != nil || r.Rcode != dns.RcodeSuccess {
					l.unanswered.Add(1)
				}
			}
		}()
	}
	return l
}

func (l *load) finish(t *testing.T) {
	close(l.stop)
	l.wg.Wait()
	if l.sent.Load() == 0 {
		t.Fatal("the load sent nothing")
	}
	if n := l.unanswered.Load(); n != 0 {
		t.Errorf("%d of %d queries went unanswered", n, l.sent.Load())
	}
	t.Logf("%d queries answered during the test", l.sent.Load())
}

// waitAnswer polls until name/qtype answers with want (first A/AAAA/CNAME rdata).
func waitAnswer(t *testing.T, addr, name string, qtype uint16, subnet, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		r, err := ask(addr, "udp", name, qtype, subnet)
		got = ""
		if err == nil && len(r.Answer) > 0 {
			f := strings.Fields(r.Answer[len(r.Answer)-1].String())
			got = f[len(f)-1]
		}
		if got == want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s %s: answer stayed %q, want %q", name, dns.TypeToString[qtype], got, want)
}

func TestSIGHUPReloadUnderLoad(t *testing.T) {
	s := startServer(t)
	l := startLoad(s.addr, "static.example.org.", dns.TypeA, "")
	zone := filepath.Join(s.dir, "zones", "example.org")
	orig, _ := os.ReadFile(zone)

	// A good change: the new record and serial are served after SIGHUP.
	good := strings.Replace(string(orig), "2026112101", "2026112102", 1) + "added IN A 192.0.2.123\n"
	os.WriteFile(zone, []byte(good), 0o644)
	mark := len(s.Logs())
	s.Signal(syscall.SIGHUP)
	s.WaitLog(mark, "reload complete")
	waitAnswer(t, s.addr, "added.example.org.", dns.TypeA, "", "192.0.2.123")

	// A bad change: refused with file:line, the old data keeps serving.
	bad := good + "broken IN A 999.1.1.1\n"
	os.WriteFile(zone, []byte(bad), 0o644)
	mark = len(s.Logs())
	s.Signal(syscall.SIGHUP)
	s.WaitLog(mark, "reload failed")
	if !strings.Contains(s.Logs()[mark:], "zones/example.org:") {
		t.Errorf("the reload error must name file:line:\n%s", s.Logs()[mark:])
	}
	waitAnswer(t, s.addr, "added.example.org.", dns.TypeA, "", "192.0.2.123")
	l.finish(t)
}

func TestAdminStateFlipsAnswersUnderLoad(t *testing.T) {
	s := startServer(t)
	const eu = "192.0.2.0/24" // esams, drmrs, eqiad
	l := startLoad(s.addr, "www.example.org.", dns.TypeA, eu)
	state := filepath.Join(s.dir, "admin_state")
	waitAnswer(t, s.addr, "www.example.org.", dns.TypeA, eu, "192.0.2.224") // esams

	// Atomic rename (editors, authdns-update): site/esams DOWN → drmrs.
	testutil.WriteAtomic(t, state, "site/esams => DOWN\n")
	waitAnswer(t, s.addr, "www.example.org.", dns.TypeA, eu, "192.0.2.226")

	// In-place write: a resource-level line moves it on to eqiad.
	os.WriteFile(state, []byte("site/esams => DOWN\ngeoip/text-addrs/drmrs => DOWN/30\n"), 0o644)
	waitAnswer(t, s.addr, "www.example.org.", dns.TypeA, eu, "198.51.100.224")
	// The forced /30 caps the TTL (300/60 record: 30 is clamped up to 60).
	r, err := ask(s.addr, "udp", "www.example.org.", dns.TypeA, eu)
	if err != nil || r.Answer[0].Header().Ttl != 60 {
		t.Errorf("TTL = %v (%v), want 60", r.Answer, err)
	}

	// Resource-level UP beats site-level DOWN.
	testutil.WriteAtomic(t, state, "site/esams => DOWN\ngeoip/text-addrs/esams => UP\n")
	waitAnswer(t, s.addr, "www.example.org.", dns.TypeA, eu, "192.0.2.224")

	// A bad file is rejected whole: the previous states stay.
	mark := len(s.Logs())
	testutil.WriteAtomic(t, state, "site/esams => DOWN\nthis is not valid\n")
	s.WaitLog(mark, "admin_state:2:")
	waitAnswer(t, s.addr, "www.example.org.", dns.TypeA, eu, "192.0.2.224")

	// Every DC down: the first answers (as gdnsd), so from drmrs back to esams.
	testutil.WriteAtomic(t, state, "site/esams => DOWN\n")
	waitAnswer(t, s.addr, "www.example.org.", dns.TypeA, eu, "192.0.2.226")
	testutil.WriteAtomic(t, state, "site/* => DOWN\n")
	waitAnswer(t, s.addr, "www.example.org.", dns.TypeA, eu, "192.0.2.224")

	// Removing the file clears every forced state.
	testutil.WriteAtomic(t, state, "site/esams => DOWN\n")
	waitAnswer(t, s.addr, "www.example.org.", dns.TypeA, eu, "192.0.2.226")
	os.Remove(state)
	waitAnswer(t, s.addr, "www.example.org.", dns.TypeA, eu, "192.0.2.224")
	l.finish(t)
}
