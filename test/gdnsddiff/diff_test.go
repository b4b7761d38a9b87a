package gdnsddiffe2e

import (
	"fmt"
	"math/rand/v2"
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
	ref, cfgDir := startGdnsd(t, "gdnsd")
	cmp, imported := importAndStartAuthdns(t, cfgDir)
	r := newReport(fmt.Sprintf("gdnsd %s vs authdns (import-gdnsd of testdata/gdnsd)", version), seed)
	if s := strings.TrimSpace(imported); s != "" {
		r.note("import-gdnsd said:\n  %s", strings.ReplaceAll(s, "\n", "\n  "))
	}
	runDiff(t, r, ref, cmp, seed, total)
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
	ref, _ := startGdnsd(t, "gdnsd")
	cmp, _ := startGdnsd(t, "gdnsd#2")
	r := newReport(fmt.Sprintf("gdnsd %s vs a second gdnsd (harness self-check)", version), seed)
	runDiff(t, r, ref, cmp, seed, total)
	t.Log("\n" + r.String())
	if r.mismatched > 0 {
		t.Errorf("the harness finds %d mismatches between two identical gdnsd", r.mismatched)
	}
	if r.queries < total {
		t.Errorf("compared %d queries, want %d", r.queries, total)
	}
}

// runBound bounds a whole run; a run that exceeds it fails.
const runBound = 15 * time.Minute

// runDiff builds the plan from the fixture and asks every query of every
// phase to both servers, recording the comparisons in r.
func runDiff(t *testing.T, r *report, ref, cmp *dnsServer, seed uint64, total int) {
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
	plan := buildPlan(rng, targets(zones, rng), ecs, total)
	deadline := time.Now().Add(runBound)
	for _, p := range plan {
		if p.state != "" {
			applyAdminState(t, r, p, ref, cmp)
		}
		results := askAll(t, p.queries, ref, cmp, deadline)
		for i, q := range p.queries {
			r.add(p.name, q, results[i][0], results[i][1], compareMsgs(results[i][0], results[i][1]))
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
				out[i][0], errs[i] = exchange(ref.addr, qs[i])
				if errs[i] == nil {
					out[i][1], errs[i] = exchange(cmp.addr, qs[i])
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
// and waits until p.probe's answer has changed on each. gdnsd's probe
// must change (else the scenario is wrong); the compared server's not
// changing is a mismatch, reported, and the phase is still asked.
func applyAdminState(t *testing.T, r *report, p phase, ref, cmp *dnsServer) {
	t.Helper()
	servers := []*dnsServer{ref, cmp}
	before := make([]string, 2)
	for i, s := range servers {
		before[i] = probeAnswer(t, s, p.probe)
	}
	for _, s := range servers {
		testutil.WriteAtomic(t, s.adminState, p.state)
	}
	for i, s := range servers {
		start := time.Now()
		var now string
		for time.Since(start) < adminWait {
			if now = probeAnswer(t, s, p.probe); now != before[i] {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		switch {
		case now != before[i]:
			r.note("phase %q: %s applied the admin_state within %v", p.name, s.name, time.Since(start).Round(100*time.Millisecond))
		case i == 0:
			t.Fatalf("phase %q: the probe %s did not change on gdnsd within %v (still %s): the scenario is wrong",
				p.name, p.probe, adminWait, now)
		default:
			r.add(p.name, p.probe, nil, nil, []mismatch{{"admin_state/not-applied",
				fmt.Sprintf("%s's answer to the probe stayed %s for %v", s.name, now, adminWait)}})
		}
	}
}

// probeAnswer is the probe's answer data with TTLs and ECS scope, in a
// canonical order, for "has it changed".
func probeAnswer(t *testing.T, s *dnsServer, q query) string {
	t.Helper()
	m, err := exchange(s.addr, q)
	if err != nil {
		t.Fatalf("probe %s to %s: %v", q, s.name, err)
	}
	if m == nil {
		return "(no reply)"
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
	return rcodeName(m.Rcode) + " " + strings.Join(parts, "; ")
}
