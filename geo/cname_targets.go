package geo

// CNAMETargets lists the resource's distinct CNAME targets, so the DNS side
// can pack each into wire format once instead of per answer.
func (r *Resource) CNAMETargets() []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range r.targets {
		if t.cname != "" && !seen[t.cname] {
			seen[t.cname] = true
			out = append(out, t.cname)
		}
	}
	return out
}
