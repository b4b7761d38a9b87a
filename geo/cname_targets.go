package geo

// CNAMETargets lists the resource's distinct CNAME targets (its DCs', or
// static's), so the DNS side can pack each into wire format once instead
// of per answer.
func (r *Resource) CNAMETargets() []string {
	var out []string
	seen := map[string]bool{}
	r.cnames(seen, &out)
	return out
}

func (r *Resource) cnames(seen map[string]bool, out *[]string) {
	add := func(c string) {
		if c != "" && !seen[c] {
			seen[c] = true
			*out = append(*out, c)
		}
	}
	add(r.cname)
	for _, t := range r.targets {
		add(t.cname)
	}
	if r.wcnames != nil {
		for _, it := range r.wcnames.items {
			add(it.cname)
		}
	}
}

// CNAMETargets lists every distinct CNAME target of every resource.
func (g *Geo) CNAMETargets() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range g.all {
		r.cnames(seen, &out)
	}
	return out
}
