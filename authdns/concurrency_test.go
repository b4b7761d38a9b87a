package authdns

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Reloads, rollouts, admin_state edits, status calls and metric scrapes
// all at once while queries run: run with -race, and every query must be
// answered.
func TestConcurrentChangesUnderQueries(t *testing.T) {
	d, dir := testDaemon(t, "")
	addr := d.Server().Addrs()[0].String()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	unanswered := 0
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{Timeout: 2 * time.Second}
			m := new(dns.Msg)
			m.SetQuestion("dyn.example.com.", dns.TypeA)
			for i := 0; i < 20000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if r, _, err := c.Exchange(m, addr); err != nil || len(r.Answer) == 0 {
					mu.Lock()
					unanswered++
					mu.Unlock()
				}
			}
		}()
	}
	admin := filepath.Join(dir, "data", "admin_state")
	for i := 0; i < 10; i++ {
		if err := d.Reload(); err != nil {
			t.Fatal(err)
		}
		// Before the stage: an edit after it makes the commit refused.
		os.WriteFile(admin+".tmp", []byte("site/dc1 => DOWN\n"), 0o644)
		os.Rename(admin+".tmp", admin)
		res, err := d.Stage(bundleOf(t, 10+i, ""))
		if err != nil {
			t.Fatal(err)
		}
		_ = d.Status()
		_ = d.StatsInfo()
		if _, err := d.Registry().Gather(); err != nil {
			t.Fatal(err)
		}
		if err := d.Commit(res.ID); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if unanswered != 0 {
		t.Errorf("%d queries unanswered", unanswered)
	}
	if got := d.State().Zones.Zones()[0].Serial; got != 19 {
		t.Errorf("serial %d, want 19", got)
	}
}
