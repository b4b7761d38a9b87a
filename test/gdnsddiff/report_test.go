package gdnsddiffe2e

import (
	"fmt"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// report counts the queries compared and the mismatches by class, with a
// few examples of each.
type report struct {
	title      string
	ref, cmp   string // the servers' names, for the examples
	seed       uint64
	queries    int // compared
	mismatched int // queries with at least one mismatch
	phases     []phaseCount
	classes    map[string]*classCount
	notes      []string
	coverage   map[string]int // what gdnsd's replies were: shows what was exercised
}

type phaseCount struct {
	name                string
	queries, mismatched int
}

type classCount struct {
	queries   int
	byFeature map[string]int
	byPhase   map[string]int
	examples  []string
}

// maxExamples bounds the examples kept per class.
const maxExamples = 3

func newReport(ref, cmp, title string, seed uint64) *report {
	return &report{ref: ref, cmp: cmp, title: title, seed: seed, classes: map[string]*classCount{}, coverage: map[string]int{}}
}

// add records one compared query.
func (r *report) add(phaseName string, q query, want, got *dns.Msg, ms []mismatch) {
	r.queries++
	if len(r.phases) == 0 || r.phases[len(r.phases)-1].name != phaseName {
		r.phases = append(r.phases, phaseCount{name: phaseName})
	}
	p := &r.phases[len(r.phases)-1]
	p.queries++
	r.cover(q, want)
	if len(ms) == 0 {
		return
	}
	r.mismatched++
	p.mismatched++
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m.Class] {
			continue
		}
		seen[m.Class] = true
		c := r.classes[m.Class]
		if c == nil {
			c = &classCount{byFeature: map[string]int{}, byPhase: map[string]int{}}
			r.classes[m.Class] = c
		}
		c.queries++
		c.byFeature[q.Feature]++
		c.byPhase[phaseName]++
		// Prefer examples of features not shown yet.
		if len(c.examples) < maxExamples && (c.byFeature[q.Feature] == 1 || len(c.examples) == 0) {
			c.examples = append(c.examples, fmt.Sprintf("[%s] %s\n        %s\n        %-9s %s\n        %-9s %s",
				phaseName, q, m.Detail, r.ref+":", summary(want), r.cmp+":", summary(got)))
		}
	}
}

// cover counts what kind of reply gdnsd gave, and how it was asked.
func (r *report) cover(q query, want *dns.Msg) {
	if q.TCP {
		r.coverage["asked over TCP"]++
	}
	if q.IPv6 {
		r.coverage["asked over IPv6"]++
	}
	if q.ECS.IsValid() {
		r.coverage["asked with ECS"]++
	}
	if want == nil {
		r.coverage["no reply"]++
		return
	}
	kind := rcodeName(want.Rcode)
	if want.Rcode == dns.RcodeSuccess {
		switch {
		case want.Truncated:
			kind = "truncated"
		case len(want.Answer) > 0:
			kind = "NOERROR with answers"
		case len(want.Ns) > 0 && want.Ns[0].Header().Rrtype == dns.TypeNS:
			kind = "referral"
		default:
			kind = "NODATA"
		}
	}
	r.coverage["gdnsd "+kind]++
	if o := want.IsEdns0(); o != nil {
		for _, opt := range o.Option {
			if e, ok := opt.(*dns.EDNS0_SUBNET); ok && e.SourceScope > 0 {
				r.coverage["ECS scope > 0"]++
			}
		}
	}
}

// note adds a line about the run itself (importer output, waits).
func (r *report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "== %s\n", r.title)
	fmt.Fprintf(&b, "seed %d (DIFF_SEED=%d reproduces this run)\n", r.seed, r.seed)
	fmt.Fprintf(&b, "queries compared: %d; with a mismatch: %d\n", r.queries, r.mismatched)
	fmt.Fprintf(&b, "coverage: %s\n", featureCounts(r.coverage))
	for _, p := range r.phases {
		fmt.Fprintf(&b, "  phase %-50s %6d queries, %5d mismatched\n", p.name+":", p.queries, p.mismatched)
	}
	if len(r.classes) > 0 {
		fmt.Fprintf(&b, "mismatches by class (queries; by what the name holds):\n")
		names := sortedKeys(r.classes)
		sort.SliceStable(names, func(i, j int) bool { return r.classes[names[i]].queries > r.classes[names[j]].queries })
		for _, n := range names {
			c := r.classes[n]
			fmt.Fprintf(&b, "  %-28s %6d  (%s)\n", n, c.queries, featureCounts(c.byFeature))
			fmt.Fprintf(&b, "  %-28s         in phase %s\n", "", featureCounts(c.byPhase))
		}
		fmt.Fprintf(&b, "examples:\n")
		for _, n := range names {
			fmt.Fprintf(&b, "  %s:\n", n)
			for _, e := range r.classes[n].examples {
				fmt.Fprintf(&b, "    %s\n", e)
			}
		}
	}
	for _, n := range r.notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

func featureCounts(m map[string]int) string {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
