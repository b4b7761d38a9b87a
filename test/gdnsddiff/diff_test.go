package gdnsddiffe2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/geotraffic/geotraffic/internal/testutil"
)

// Defaults: DIFF_QUERIES for the test make test runs (make diff-gdnsd
// asks for 10,000 or more), DIFF_SEED for every run.
const (
	defaultQueries     = 1000
	defaultSelfQueries = 600
	defaultSeed        = 16
)

// TestDiffGdnsd compares gdnsd with authdns serving the import of the
// same config directory. Every difference not normalised away (see
// normalise) fails the test; the report lists them by class.
func TestDiffGdnsd(t *testing.T) {
	seed := envInt(t, "DIFF_SEED", defaultSeed)
	total := int(envInt(t, "DIFF_QUERIES", defaultQueries))
	_, version := gdnsdBinary(t)
	ref, cfgDir := startGdnsd(t, "gdnsd", nil)
	cmp, imported := importAndStartAuthdns(t, cfgDir)
	r := newReport("gdnsd", "authdns", fmt.Sprintf("gdnsd %s vs authdns (import-gdnsd of testdata/gdnsd)", version), seed)
	if s := strings.TrimSpace(imported); s != "" {
		r.note("import-gdnsd said:\n  %s", strings.ReplaceAll(s, "\n", "\n  "))
	}
	runDiff(t, r, ref, cmp, seed, total, true)
	t.Log("\n" + r.String())
	if r.mismatched > 0 {
		t.Errorf("%d of %d queries answered differently (report above)", r.mismatched, r.queries)
	}
}

// TestHarnessGdnsdAgainstGdnsd proves the harness: two gdnsd on the same
// fixture must agree on every query and every admin_state scenario.
func TestHarnessGdnsdAgainstGdnsd(t *testing.T) {
	seed := envInt(t, "DIFF_SEED", defaultSeed)
	total := int(envInt(t, "DIFF_SELF_QUERIES", defaultSelfQueries))
	_, version := gdnsdBinary(t)
	ref, _ := startGdnsd(t, "gdnsd", nil)
	cmp, _ := startGdnsd(t, "gdnsd#2", nil)
	r := newReport("gdnsd", "gdnsd#2", fmt.Sprintf("gdnsd %s vs a second gdnsd (harness self-check)", version), seed)
	runDiff(t, r, ref, cmp, seed, total, true)
	t.Log("\n" + r.String())
	if r.mismatched > 0 {
		t.Errorf("the harness finds %d mismatches between two identical gdnsd", r.mismatched)
	}
	if r.queries < total {
		t.Errorf("compared %d queries, want %d", r.queries, total)
	}
}

// TestHarnessDetectsDifferences is the negative control: against a gdnsd
// whose copy of the fixture differs in a TTL, an address, a map list and
// the NSID, the harness reports each in its class.
func TestHarnessDetectsDifferences(t *testing.T) {
	seed := envInt(t, "DIFF_SEED", defaultSeed)
	ref, _ := startGdnsd(t, "gdnsd", nil)
	cmp, _ := startGdnsd(t, "gdnsd (edited)", func(dir string) {
		edit(t, filepath.Join(dir, "zones", "example.org"), "mx1001     1H   IN A    ", "mx1001     2H   IN A    ")
		edit(t, filepath.Join(dir, "geo-resources"), "esams => 172.31.4.50", "esams => 172.31.4.51")
		edit(t, filepath.Join(dir, "geo-maps"), "default => [eqiad, codfw, ulsfo, esams]", "default => [codfw, eqiad, ulsfo, esams]")
		edit(t, filepath.Join(dir, "config"), `nsid_ascii => "ns-diff-1"`, `nsid_ascii => "ns-diff-2"`)
	})
	r := newReport("gdnsd", "edited", "gdnsd vs an edited gdnsd (negative control)", seed)
	runDiff(t, r, ref, cmp, seed, 2000, false)
	for _, class := range []string{"answer/ttl", "answer/rdata", "opt/NSID"} {
		if r.classes[class] == nil {
			t.Errorf("no %s mismatch found", class)
		}
	}
	for class := range r.classes {
		if class != "answer/ttl" && class != "answer/rdata" && class != "opt/NSID" {
			t.Errorf("unexpected class %s", class)
		}
	}
	if t.Failed() {
		t.Log("\n" + r.String())
	}
}

// edit replaces the one occurrence of old in file by new.
func edit(t *testing.T, file, old, new string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), old); n != 1 {
		t.Fatalf("%s: %q found %d times, want once", file, old, n)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runBound bounds a whole run; a run that exceeds it fails.
const runBound = 15 * time.Minute

// runDiff builds the plan from the fixture and asks every query of every
// phase to both servers, recording the comparisons in r. Without
// withScenarios, only the first phase is asked.
func runDiff(t *testing.T, r *report, ref, cmp *dnsServer, seed uint64, total int, withScenarios bool) {
	t.Helper()
	zones, err := walkZones(testdata("gdnsd", "zones"))
	if err != nil {
		t.Fatal(err)
	}
	ecs, err := loadECSSource(mmdbCSV(), testdata("gdnsd", "geo-maps"), testdata("gdnsd", "geoip", "discovery-nets"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ts := targets(zones, rng)
	plan := buildPlan(rng, ts, ecs, total)
	r.note("%d zones, %d names; %s", len(zones), len(ts), plan[0].note)
	deadline := time.Now().Add(runBound)
	if !withScenarios {
		plan = plan[:1]
	}
	for _, p := range plan {
		if p.state != "" {
			applyAdminState(t, r, p, ref, cmp)
		}
		results := askAll(t, p.queries, ref, cmp, deadline)
		for i, q := range p.queries {
			r.add(p.name, q, results[i][0], results[i][1], compareMsgs(q, results[i][0], results[i][1]))
		}
	}
}

// askAll sends every query to both servers from a few workers and
// returns the replies, [i][0] from ref and [i][1] from cmp.
func askAll(t *testing.T, qs []query, ref, cmp *dnsServer, deadline time.Time) [][2]*dns.Msg {
	t.Helper()
	out := make([][2]*dns.Msg, len(qs))
	errs := make([]error, len(qs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i][0], errs[i] = exchange(ref, qs[i])
				if errs[i] == nil {
					out[i][1], errs[i] = exchange(cmp, qs[i])
				}
			}
		}()
	}
	for i := range qs {
		if time.Now().After(deadline) {
			close(next)
			wg.Wait()
			t.Fatalf("run bound %v exceeded after %d queries of this phase", runBound, i)
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("query %s: %v", qs[i], err)
		}
	}
	return out
}

// adminWait bounds the wait for a server to apply an admin_state (gdnsd
// takes about 2 s).
const adminWait = 20 * time.Second

// applyAdminState writes p.state into both servers' admin_state files
// and waits, on both at once, until p.probe's answer has changed on each.
// gdnsd's probe must change (else the scenario is wrong); the compared
// server's not changing is a mismatch, reported, and the phase is still
// asked.
func applyAdminState(t *testing.T, r *report, p phase, ref, cmp *dnsServer) {
	t.Helper()
	servers := []*dnsServer{ref, cmp}
	before := make([]string, 2)
	for i, s := range servers {
		a, err := probeAnswer(s, p.probe)
		if err != nil {
			t.Fatal(err)
		}
		before[i] = a
	}
	for _, s := range servers {
		testutil.WriteAtomic(t, s.adminState, p.state)
	}
	start := time.Now()
	type result struct {
		answer string
		took   time.Duration
		err    error
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < adminWait {
				a, err := probeAnswer(s, p.probe)
				results[i] = result{a, time.Since(start), err}
				if err != nil || a != before[i] {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	for i, s := range servers {
		res := results[i]
		switch {
		case res.err != nil:
			t.Fatal(res.err)
		case res.answer != before[i]:
			r.note("phase %q: %s applied the admin_state within %v", p.name, s.name, res.took.Round(100*time.Millisecond))
		case i == 0:
			t.Fatalf("phase %q: the probe %s did not change on gdnsd within %v (still %s): the scenario is wrong",
				p.name, p.probe, adminWait, res.answer)
		default:
			r.add(p.name, p.probe, nil, nil, []mismatch{{"admin_state/not-applied",
				fmt.Sprintf("%s's answer to the probe stayed %s for %v", s.name, res.answer, adminWait)}})
		}
	}
}

// probeAnswer is the probe's answer data with TTLs and ECS scope, in a
// canonical order, for "has it changed".
func probeAnswer(s *dnsServer, q query) (string, error) {
	m, err := exchange(s, q)
	if err != nil {
		return "", fmt.Errorf("probe %s to %s: %w", q, s.name, err)
	}
	if m == nil {
		return "(no reply)", nil
	}
	var parts []string
	for _, rr := range m.Answer {
		parts = append(parts, strings.Join(strings.Fields(rr.String()), " "))
	}
	sort.Strings(parts)
	if o := m.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if e, ok := opt.(*dns.EDNS0_SUBNET); ok {
				parts = append(parts, fmt.Sprintf("scope=%d", e.SourceScope))
			}
		}
	}
	return rcodeName(m.Rcode) + " " + strings.Join(parts, "; "), nil
}
