package dnssec

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// staticSets lists the sets of z that are signed: every set at every
// authoritative name, the apex key sets, the SOA of negative answers, and
// at a delegation only the DS (RFC 4035 §2.2: the NS at a cut and the
// glue below it are not signed).
func (zs *zoneSigner) staticSets() []*zones.RRset {
	var out []*zones.RRset
	for _, s := range []*zones.RRset{zs.dnskey, zs.cds, zs.cdnskey, zs.z.NegSOA} {
		if s != nil {
			out = append(out, s)
		}
	}
	zs.z.Walk(func(n *zones.Node) {
		if zs.belowCut(n.Owner) {
			return
		}
		if n.Cut {
			if ds := n.Find(dns.TypeDS); ds != nil {
				out = append(out, ds)
			}
			return
		}
		for _, s := range n.Sets {
			if s.Type != dns.TypeRRSIG {
				out = append(out, s)
			}
		}
		if n.CNAME != nil {
			out = append(out, n.CNAME)
		}
	})
	return out
}

// belowCut reports whether a name is strictly below a delegation of the
// zone (so it is glue or occluded data).
func (zs *zoneSigner) belowCut(owner []byte) bool {
	lower := make([]byte, len(owner))
	zones.LowerInto(lower, owner)
	apex := zs.z.Apex
	if len(lower) <= len(apex) || lower[0] == 0 {
		return false
	}
	// Ancestors strictly between the name and the apex.
	for i := int(lower[0]) + 1; i < len(lower)-len(apex); i += int(lower[i]) + 1 {
		if n := zs.z.Node(lower[i:]); n != nil && n.Cut {
			return true
		}
	}
	return false
}

// presignAll signs every zone's static sets, opt.Workers at a time.
func (s *Signer) presignAll(now time.Time) error {
	type job struct {
		zs  *zoneSigner
		set *zones.RRset
		p   presigned
		err error
	}
	var jobs []job
	for _, zs := range s.zones {
		zs.static = map[*zones.RRset]presigned{}
		for _, set := range zs.staticSets() {
			jobs = append(jobs, job{zs: zs, set: set})
		}
	}
	refresh := now.Add(s.opt.Refresh).UnixNano()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range s.opt.Workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) {
					return
				}
				j := &jobs[i]
				sigs, err := j.zs.sign(j.set.Owner, j.set.Type, j.set.TTL, j.set.RData, now)
				if err != nil {
					j.err = fmt.Errorf("zone %s: %s %s: %w", j.zs.z.Name,
						presentation(j.set.Owner), dns.TypeToString[j.set.Type], err)
				}
				j.p = presigned{sigs: sigs, refresh: refresh}
			}
		})
	}
	wg.Wait()
	var errs []error
	for _, j := range jobs {
		if j.err != nil {
			errs = append(errs, j.err)
			continue
		}
		j.zs.static[j.set] = j.p
	}
	s.static = len(jobs)
	return errors.Join(errs...)
}

// presentation renders a wire name for messages.
func presentation(w []byte) string {
	s, _, err := dns.UnpackDomainName(w, 0)
	if err != nil {
		return fmt.Sprintf("%q", w)
	}
	return s
}
