package routing

import (
	"fmt"
	"slices"
	"strings"
)

// preferChoices moves each site to the earliest of its ordered choices
// whose own resolved path is usable, also when that choice was itself
// rerouted (by fallback, promotion or a nearest jump) in an earlier pass:
// the operator's order comes before promotion and nearest.
//
// Every move keeps the decision graph free of loops: a move changes only
// the site's own next hop, so it can close a loop only through the site
// itself, and followChoice refuses a choice whose path comes back through
// the site. Each move takes a strictly earlier choice, so the passes end.
func preferChoices(c *Cluster, downs map[string]string, dec map[string]*decision) {
	order := topoOrder(c)
	for moved := true; moved; {
		moved = false
		for _, site := range order {
			moved = preferChoice(c.Routes[site], downs, dec, site) || moved
		}
	}
}

// preferChoice moves site to an earlier usable choice, if there is one.
func preferChoice(r Route, downs map[string]string, dec map[string]*decision, site string) bool {
	if r.Direct {
		return false
	}
	d := dec[site]
	rank := len(r.Choices)
	if d.choice >= 0 {
		rank = d.choice
	}
	for i, hop := range r.Choices[:rank] {
		if _, why := followChoice(downs, dec, site, hop); why == "" {
			dec[site] = choiceDecision(r.Choices, i)
			return true
		}
	}
	return false
}

// followChoice walks hop's resolved path for a site that would forward to
// it. why is empty when the choice is usable: hop is up and its path
// reaches a site that talks to the applications, without a DOWN site,
// without coming back through site and without a loop.
func followChoice(downs map[string]string, dec map[string]*decision, site, hop string) (path []string, why string) {
	if w, down := downs[hop]; down {
		return nil, w
	}
	path = []string{hop}
	// Bounded by the number of decisions: a longer walk has looped.
	for cur := hop; len(path) <= len(dec)+1; {
		d := dec[cur]
		switch {
		case d == nil || (!d.terminal && d.next == ""):
			return path, fmt.Sprintf("%s reaches direct only through DOWN sites (its own route is unreachable)", hop)
		case d.terminal:
			return path, ""
		case d.next == site:
			return path, fmt.Sprintf("%s's route comes back through %s (%s > %s)", hop, site, strings.Join(path, " > "), site)
		case slices.Contains(path, d.next):
			return path, fmt.Sprintf("%s's route loops (%s > %s)", hop, strings.Join(path, " > "), d.next)
		}
		if w, down := downs[d.next]; down {
			return path, fmt.Sprintf("%s's route passes a DOWN site: %s", hop, w)
		}
		cur = d.next
		path = append(path, cur)
	}
	return path, fmt.Sprintf("%s's route does not end (%s)", hop, strings.Join(path, " > "))
}

// describe builds every decision's detail from the final decisions: why
// each skipped choice was unusable, and, for the choice taken, whether it
// was itself rerouted.
func describe(c *Cluster, downs map[string]string, dec map[string]*decision) {
	for site, d := range dec {
		r := c.Routes[site]
		d.detail = detailOf(downs, dec, r, site, d) + fromSource("route", r.Source)
	}
}

// detailOf is the detail of site's decision d.
func detailOf(downs map[string]string, dec map[string]*decision, r Route, site string, d *decision) string {
	if r.Direct {
		return "the route_table says direct"
	}
	n := len(r.Choices)
	if d.choice >= 0 {
		n = d.choice
	}
	var skipped []string
	for _, hop := range r.Choices[:n] {
		_, why := followChoice(downs, dec, site, hop)
		skipped = append(skipped, why)
	}
	detail := "first choice"
	if d.choice != 0 {
		detail = d.explain(strings.Join(skipped, "; "))
	}
	if d.choice >= 0 {
		detail += reroutedNote(downs, dec, site, d.next)
	}
	return detail
}

// reroutedNote says that the choice taken does not follow its own first
// choice, and where it goes instead, so an operator reading the entry
// site's route sees why the path differs from the route table.
func reroutedNote(downs map[string]string, dec map[string]*decision, site, hop string) string {
	d := dec[hop]
	if d.reason == ReasonConfigured {
		return ""
	}
	note := fmt.Sprintf("; %s is itself rerouted (%s)", hop, d.reason)
	if path, _ := followChoice(downs, dec, site, hop); len(path) > 1 {
		note += ": " + strings.Join(path, " > ")
	}
	return note
}
