package updatee2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/authdns"
	"github.com/geotraffic/geotraffic/internal/testutil"
)

const eu = "192.0.2.0/24" // the default map sends it to esams, then drmrs

// cluster is three servers and a git-tracked data directory to roll out.
type cluster struct {
	servers []*server
	src     string
}

func newCluster(t *testing.T, extra ...string) *cluster {
	t.Helper()
	c := &cluster{src: filepath.Join(t.TempDir(), "dns")}
	makeData(t, c.src)
	gitRepo(t, c.src)
	for i := 0; i < 3; i++ {
		e := ""
		if i < len(extra) {
			e = extra[i]
		}
		c.servers = append(c.servers, startServer(t, e))
	}
	return c
}

func (c *cluster) list() string {
	var l []string
	for _, s := range c.servers {
		l = append(l, s.control)
	}
	return strings.Join(l, ",")
}

func (c *cluster) update(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	lock := filepath.Join(t.TempDir(), "lock")
	return run(t, "", "authdns-update", append([]string{"--data", c.src, "--servers", c.list(), "--lock", lock}, args...)...)
}

func (c *cluster) digests(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, s := range c.servers {
		st, err := authdns.NewClient(s.control, "", 5*time.Second).Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Staged != nil {
			t.Errorf("%s still has a staged bundle %s", s.control, st.Staged.ID)
		}
		out = append(out, st.DataDigest)
	}
	return out
}

// change edits the source: a new serial and record, and esams DOWN.
func (c *cluster) change(t *testing.T, commit bool) {
	t.Helper()
	zone := filepath.Join(c.src, "zones", "example.org")
	orig, _ := os.ReadFile(zone)
	writeFile(t, zone, strings.Replace(string(orig), "2026112101", "2026112102", 1)+"rolled IN A 192.0.2.99\n")
	writeFile(t, filepath.Join(c.src, "admin_state"), "site/esams => DOWN\n")
	if commit {
		gitCommit(t, c.src, "change")
	}
}

func TestGoodRolloutChangesAll(t *testing.T) {
	c := newCluster(t)
	for _, s := range c.servers {
		if got := s.dig("rolled.example.org", "A"); got != "" {
			t.Fatalf("rolled.example.org answers before the rollout: %q", got)
		}
		if got := s.dig("+subnet="+eu, "www.example.org", "A"); got != "192.0.2.224" {
			t.Fatalf("www from EU = %q, want esams", got)
		}
	}
	before := c.digests(t)
	c.change(t, true)

	// --diff-only shows the change and changes nothing.
	out, errOut, code := c.update(t, "--diff-only")
	if code != 0 {
		t.Fatalf("--diff-only exit %d:\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"~ zones/example.org", "zone example.org.: serial 2026112101 → 2026112102", "admin_state + site/esams => DOWN"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if got := c.digests(t); strings.Join(got, " ") != strings.Join(before, " ") {
		t.Fatal("--diff-only changed a server")
	}

	// Without --yes and without "yes" on stdin: nothing happens.
	lock := filepath.Join(t.TempDir(), "lock")
	_, errOut, code = run(t, "no\n", "authdns-update", "--data", c.src, "--servers", c.list(), "--lock", lock)
	if code != 1 || !strings.Contains(errOut, "not confirmed") {
		t.Fatalf("unconfirmed rollout: exit %d\n%s", code, errOut)
	}

	out, errOut, code = c.update(t, "--yes")
	if code != 0 {
		t.Fatalf("rollout exit %d:\n%s%s", code, out, errOut)
	}
	if n := strings.Count(out, "committed"); n != 3 {
		t.Errorf("%d servers reported committed:\n%s", n, out)
	}
	after := c.digests(t)
	for i, d := range after {
		if d == before[i] || d != after[0] {
			t.Errorf("server %d digest %s (before %s, first %s)", i, d, before[i], after[0])
		}
	}
	for _, s := range c.servers {
		if got := s.dig("rolled.example.org", "A"); got != "192.0.2.99" {
			t.Errorf("%s: rolled.example.org = %q", s.addr, got)
		}
		if got := s.dig("example.org", "SOA"); !strings.Contains(got, "2026112102") {
			t.Errorf("%s: SOA = %q", s.addr, got)
		}
		// The rolled-out admin_state is in force: esams DOWN → drmrs.
		if got := s.dig("+subnet="+eu, "www.example.org", "A"); got != "192.0.2.226" {
			t.Errorf("%s: www from EU = %q, want drmrs", s.addr, got)
		}
	}
	// Rolling out the same data again is a no-op.
	out, _, code = c.update(t, "--yes")
	if code != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("second rollout: exit %d\n%s", code, out)
	}
}

func TestBrokenZoneChangesNone(t *testing.T) {
	c := newCluster(t)
	before := c.digests(t)
	zone := filepath.Join(c.src, "zones", "example.org")
	orig, _ := os.ReadFile(zone)
	writeFile(t, zone, string(orig)+"broken IN A 999.1.1.1\n")
	gitCommit(t, c.src, "broken")
	out, errOut, code := c.update(t, "--yes")
	if code != 1 || !strings.Contains(errOut, "zones/example.org:") || !strings.Contains(errOut, "nothing was changed") {
		t.Fatalf("broken zone: exit %d\n%s%s", code, out, errOut)
	}
	if got := c.digests(t); strings.Join(got, " ") != strings.Join(before, " ") {
		t.Fatal("a broken rollout changed a server")
	}
}

// One server cannot load the bundle (its geoip_db_dir has no database):
// the others staged it and must abort; nothing changes anywhere.
func TestStageFailureOnOneServerAbortsAll(t *testing.T) {
	dbDir := filepath.Dir(mmdb())
	empty := t.TempDir()
	c := newCluster(t, "geoip_db_dir: "+dbDir+"\n", "geoip_db_dir: "+dbDir+"\n", "geoip_db_dir: "+empty+"\n")
	before := c.digests(t)
	geo, _ := os.ReadFile(filepath.Join(c.src, "geoip.yaml"))
	writeFile(t, filepath.Join(c.src, "geoip.yaml"), strings.Replace(string(geo), "geoip2_db: "+mmdb(), "geoip2_db: default-city.mmdb", 1))
	c.change(t, true)
	out, errOut, code := c.update(t, "--yes", "--geoip-db-dir", dbDir)
	t.Logf("authdns-update output:\n%s%s", out, errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", code, out, errOut)
	}
	if n := strings.Count(out, "aborted"); n != 2 || !strings.Contains(out, "stage failed") || !strings.Contains(errOut, "default-city.mmdb") {
		t.Errorf("want two aborted and one stage failure naming the database:\n%s%s", out, errOut)
	}
	if got := c.digests(t); strings.Join(got, " ") != strings.Join(before, " ") {
		t.Fatal("a failed stage changed a server")
	}
	for _, s := range c.servers {
		if got := s.dig("rolled.example.org", "A"); got != "" {
			t.Errorf("%s serves the aborted data: %q", s.addr, got)
		}
	}
}

func TestServerDownChangesNone(t *testing.T) {
	c := newCluster(t)
	before := c.digests(t)[:2]
	c.servers[2].Stop()
	c.change(t, true)
	out, errOut, code := c.update(t, "--yes")
	if code != 1 || !strings.Contains(out, "unreachable") || !strings.Contains(errOut, "nothing was changed") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	c.servers = c.servers[:2]
	if got := c.digests(t); strings.Join(got, " ") != strings.Join(before, " ") {
		t.Fatal("a rollout with a server down changed another server")
	}
}

func TestDirtyTreeRefused(t *testing.T) {
	c := newCluster(t)
	c.change(t, false) // modified, not committed
	_, errOut, code := c.update(t, "--yes")
	if code != 1 || !strings.Contains(errOut, "uncommitted, untracked or ignored") {
		t.Fatalf("modified tree: exit %d\n%s", code, errOut)
	}
	gitCommit(t, c.src, "change")
	writeFile(t, filepath.Join(c.src, "zones", "new.example"), "x")
	_, errOut, code = c.update(t, "--yes")
	if code != 1 || !strings.Contains(errOut, "zones/new.example") {
		t.Fatalf("untracked file: exit %d\n%s", code, errOut)
	}
	// An ignored file would be rolled out too: refused as well; a
	// dotfile is never rolled out, so it is fine.
	writeFile(t, filepath.Join(c.src, ".gitignore"), "*.example\n")
	gitCommit(t, c.src, "ignore")
	_, errOut, code = c.update(t, "--yes")
	if code != 1 || !strings.Contains(errOut, "zones/new.example") {
		t.Fatalf("ignored file: exit %d\n%s", code, errOut)
	}
	os.Remove(filepath.Join(c.src, "zones", "new.example"))
	writeFile(t, filepath.Join(c.src, "zones", ".example.org.swp"), "x")
	if out, errOut, code := c.update(t, "--yes"); code != 0 {
		t.Fatalf("clean tree with an untracked dotfile: exit %d\n%s%s", code, out, errOut)
	}
}

func TestConcurrentRolloutLocked(t *testing.T) {
	c := newCluster(t)
	c.change(t, true)
	lock := filepath.Join(t.TempDir(), "lock")
	// Hold the lock with a rollout that waits at the confirmation prompt.
	cmd := exec.Command(bin("authdns-update"), "--data", c.src, "--servers", c.list(), "--lock", lock)
	stdin, _ := cmd.StdinPipe()
	var out testutil.SyncBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Type yes") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	_, errOut, code := run(t, "", "authdns-update", "--data", c.src, "--servers", c.list(), "--lock", lock, "--yes")
	if code != 1 || !strings.Contains(errOut, "another rollout is running") {
		t.Fatalf("second rollout: exit %d\n%s", code, errOut)
	}
}
