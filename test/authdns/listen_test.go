package authdnse2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/miekg/dns"
)

// Moving the listen address by reload opens the new sockets before the
// old ones close. One loop asks the old and then the new address, over
// UDP and over TCP, while the move happens: if the old address ever
// failed and the new one failed after it in the same round, there was a
// moment with neither listening.
func TestListenMoveOpensNewBeforeClosingOld(t *testing.T) {
	s := startServer(t)
	old, next := s.addr, testutil.FreeAddr(t)
	cfgFile := filepath.Join(s.dir, "authdns.yaml")
	cfg, _ := os.ReadFile(cfgFile)
	moved := strings.Replace(string(cfg), `listen: ["127.0.0.1:0", "[::1]:0"]`, `listen: ["`+next+`"]`, 1)
	if moved == string(cfg) {
		t.Fatal("startServer's listen line changed: update this test")
	}

	type tally struct{ oldOnly, both, newOnly, neither int }
	counts := map[string]*tally{"udp": {}, "tcp": {}}
	answered := func(addr, network string) bool {
		r, err := ask(addr, network, "static.example.org.", dns.TypeA, "")
		return err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1
	}
	reloaded, oldGone := false, 0
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < 20000 && time.Now().Before(deadline) && oldGone < 20; i++ {
		if i == 20 {
			os.WriteFile(cfgFile, []byte(moved), 0o644)
			s.Signal(syscall.SIGHUP) // the loop goes on while the daemon reloads
			reloaded = true
		}
		gone := true
		for _, network := range []string{"udp", "tcp"} {
			o, n := answered(old, network), answered(next, network)
			c := counts[network]
			switch {
			case o && n:
				c.both++
			case o:
				c.oldOnly++
			case n:
				c.newOnly++
			default:
				c.neither++
			}
			gone = gone && !o && n
		}
		if gone {
			oldGone++
		}
	}
	if !reloaded || oldGone < 20 {
		t.Fatalf("the old address never stopped answering (reloaded %v):\n%s", reloaded, s.Logs())
	}
	for network, c := range counts {
		t.Logf("%s: old only %d, both %d, new only %d, neither %d", network, c.oldOnly, c.both, c.newOnly, c.neither)
		if c.neither != 0 {
			t.Errorf("%s: %d rounds found neither address answering", network, c.neither)
		}
		if c.oldOnly < 20 || c.newOnly < 20 {
			t.Errorf("%s: the loop did not see both sides of the move", network)
		}
	}
	// The old sockets close before the reload is logged as complete.
	testutil.WaitFor(t, "the reload logged as complete", func() bool { return strings.Contains(s.Logs(), "reload complete") })
}
