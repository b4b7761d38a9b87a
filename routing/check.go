package routing

import (
	"fmt"
	"slices"

	adminstate "github.com/geotraffic/geotraffic/admin_state"
)

// DNSView is what the cross-check needs from the GeoDNS configuration.
type DNSView interface {
	// Sites lists the sites GeoDNS can send users to (its datacenters),
	// whether or not they are currently DOWN for DNS.
	Sites() []string
	// DNSDown reports whether GeoDNS currently sends no users to site.
	DNSDown(site string) bool
}

// Finding codes.
const (
	// FindingShutdownServed: traffic_shutdown is set for a site GeoDNS
	// still sends users to. The seeds' rule is to move DNS first and
	// hard-block only long after, or users get errors.
	FindingShutdownServed = "shutdown-while-dns-serves"
	// FindingDownServed: a site is DOWN for routing but GeoDNS still sends
	// users to it.
	FindingDownServed = "down-for-routing-not-dns"
	// FindingUnknownToRouting: GeoDNS sends users to a site routing.yaml
	// does not know at all.
	FindingUnknownToRouting = "dns-site-unknown-to-routing"
	// FindingNotRouted: GeoDNS sends users to a site that has no
	// route_table entry in a cluster.
	FindingNotRouted = "dns-site-not-in-cluster"
	// FindingUnreachable: GeoDNS sends users to a site whose route in a
	// cluster is unreachable.
	FindingUnreachable = "dns-site-unreachable"
)

// Finding is one warning of the cross-check. Cluster is empty for
// findings about a site as a whole.
type Finding struct {
	Code    string `json:"code"`
	Cluster string `json:"cluster,omitempty"`
	Site    string `json:"site"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	if f.Cluster == "" {
		return fmt.Sprintf("warning: %s: %s [%s]", f.Site, f.Message, f.Code)
	}
	return fmt.Sprintf("warning: %s/%s: %s [%s]", f.Cluster, f.Site, f.Message, f.Code)
}

// Check cross-checks routing (under admin state st) with GeoDNS. An empty
// result means they agree.
func Check(cfg *Config, st *adminstate.State, dns DNSView) []Finding {
	dnsSites := slices.Sorted(slices.Values(dns.Sites()))
	dnsSites = slices.Compact(dnsSites)
	served := map[string]bool{}
	for _, s := range dnsSites {
		served[s] = !dns.DNSDown(s)
	}
	var out []Finding
	for _, s := range dnsSites {
		if !served[s] {
			continue
		}
		if _, ok := cfg.Sites[s]; !ok {
			out = append(out, Finding{Code: FindingUnknownToRouting, Site: s,
				Message: "GeoDNS sends users here but routing.yaml has no such site"})
			continue
		}
		if d, why := Down(st, s); d {
			out = append(out, Finding{Code: FindingDownServed, Site: s,
				Message: why + " for routing, but GeoDNS still sends users here; mark it DOWN for GeoDNS too"})
		}
	}
	for _, cname := range cfg.ClusterNames() {
		c := cfg.Clusters[cname]
		results := map[string]Result{}
		for _, r := range ResolveCluster(cfg, c, st) {
			results[r.Site] = r
		}
		for _, s := range dnsSites {
			if !served[s] {
				continue
			}
			if _, known := cfg.Sites[s]; !known {
				continue // reported once above
			}
			if _, shut := c.Shutdown[s]; shut {
				out = append(out, Finding{Code: FindingShutdownServed, Cluster: cname, Site: s,
					Message: "traffic_shutdown is set but GeoDNS still sends users here: move DNS away first, hard-block only long after"})
				continue
			}
			r, ok := results[s]
			if !ok {
				out = append(out, Finding{Code: FindingNotRouted, Cluster: cname, Site: s,
					Message: "GeoDNS sends users here but the cluster's route_table has no entry for this site"})
				continue
			}
			if r.Status == StatusUnreachable {
				out = append(out, Finding{Code: FindingUnreachable, Cluster: cname, Site: s,
					Message: "GeoDNS sends users here but no route to the applications remains: " + r.Reasons[len(r.Reasons)-1].Detail})
			}
		}
	}
	return out
}
