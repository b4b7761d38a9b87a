package geo

import (
	"math/rand/v2"
	"net/netip"
	"slices"

	"github.com/geotraffic/geotraffic/health"
)

// witem is a compiled weighted item: one address, a group, or a CNAME.
type witem struct {
	addrs   []netip.Addr
	weights []uint32
	cname   string
	weight  uint32 // configured: the address's, CNAME's, or the group's sum
}

func buildItems(items []WeightedItem) []witem {
	out := make([]witem, len(items))
	for i, it := range items {
		out[i] = witem{addrs: it.Addrs, weights: it.Weights, cname: it.CNAME, weight: it.Weight}
	}
	return out
}

// allAddrs lists every address of the family, weighted's included.
func (f *family) allAddrs() []netip.Addr {
	out := slices.Clip(f.addrs)
	for _, it := range f.items {
		out = append(out, it.addrs...)
	}
	return out
}

// wset is a weighted set's dynamic weights for one health snapshot: an
// address's (or CNAME's) configured weight, 0 when it is DOWN; every
// configured weight when the up weight is below ceil(total × up_thresh)
// (then down is set), as gdnsd.
type wset struct {
	w          [][]uint32 // [item][address]; CNAMEs: one each
	sums, maxs []uint32   // per item
	sum, max   uint32     // over items: sum of sums, max of sums
	down       bool
}

// weightedHealth holds a weighted resource's sets for a snapshot.
type weightedHealth struct{ v4, v6, cn *wset }

// newWSet computes f's set with up telling each address's (or CNAME's)
// state; up nil: all up.
func newWSet(f *family, up func(item, addr int) bool) *wset {
	if f == nil {
		return nil
	}
	s := &wset{w: make([][]uint32, len(f.items)), sums: make([]uint32, len(f.items)), maxs: make([]uint32, len(f.items))}
	var total uint64
	fill := func(all bool) {
		s.sum, s.max = 0, 0
		for i, it := range f.items {
			ws := it.weights
			if it.cname != "" {
				ws = []uint32{it.weight}
			}
			s.w[i] = make([]uint32, len(ws))
			s.sums[i], s.maxs[i] = 0, 0
			for j, w := range ws {
				if all || up == nil || up(i, j) {
					s.w[i][j] = w
					s.sums[i] += w
					s.maxs[i] = max(s.maxs[i], w)
				}
			}
			s.sum += s.sums[i]
			s.max = max(s.max, s.sums[i])
		}
	}
	for _, it := range f.items {
		total += uint64(it.weight)
	}
	fill(false)
	if int(s.sum) < need(int(total), f.upThresh) {
		s.down = true
		fill(true)
	}
	return s
}

// weighted folds the states of r's addresses and CNAMEs into lh: DOWN
// when a set is below its threshold, the TTL the minimum over every
// monitor of every item.
func (m *Monitored) weighted(r *Resource, lh *leafHealth) {
	for _, fs := range []struct {
		f   *family
		out **wset
	}{{r.v4, &lh.w.v4}, {r.v6, &lh.w.v6}} {
		f := fs.f
		if f == nil {
			continue
		}
		*fs.out = newWSet(f, func(i, j int) bool { return m.up(f.items[i].addrs[j], "", f.svc, &lh.dcHealth) })
		lh.down = lh.down || (*fs.out).down
	}
	if f := r.wcnames; f != nil {
		lh.w.cn = newWSet(f, func(i, _ int) bool { return m.up(netip.Addr{}, f.items[i].cname, f.svc, &lh.dcHealth) })
		lh.down = lh.down || lh.w.cn.down
	}
}

// weighted answers a weighted resource with gdnsd's random choice: one
// CNAME by weight; per family, without multi one item by weight and each
// of its addresses with probability weight / the item's largest, with
// multi each item with probability its weight / the largest item's and
// one of its addresses by weight. The addresses go to the caller's Buf.
func (q *query) weighted(r *Resource, out *Answer) (bool, uint32) {
	var w4, w6, wc *wset
	down, ttl := false, uint32(health.MaxTTL)
	if lh := q.h.leafAt(r); lh != nil {
		w4, w6, wc, down, ttl = lh.w.v4, lh.w.v6, lh.w.cn, lh.down, lh.ttl
	} else {
		w4, w6, wc = r.wUp.v4, r.wUp.v6, r.wUp.cn
	}
	if r.wcnames != nil {
		out.CNAME = r.wcnames.items[pickItem(wc)].cname
		return down, ttl
	}
	buf := q.scratch(out)
	half := len(buf) / 2
	n4 := pickAddrs(r.v4, w4, buf[:half])
	n6 := pickAddrs(r.v6, w6, buf[half:])
	out.V4, out.V6 = buf[:n4], buf[half:half+n6]
	return down, ttl
}

// pickItem chooses an item with probability its weight / the sum.
func pickItem(s *wset) int {
	x := rand.Uint32N(s.sum)
	run := uint32(0)
	for i, w := range s.sums {
		run += w
		if x < run {
			return i
		}
	}
	return 0
}

// pickAddrs fills dst with the addresses chosen from f, returning how many.
func pickAddrs(f *family, s *wset, dst []netip.Addr) int {
	if f == nil {
		return 0
	}
	n := 0
	if f.multi {
		for i, it := range f.items {
			if rand.Uint32N(s.max) >= s.sums[i] {
				continue
			}
			x, run := rand.Uint32N(s.sums[i]), uint32(0)
			for j, a := range it.addrs {
				run += s.w[i][j]
				if x < run {
					dst[n] = a
					n++
					break
				}
			}
		}
		return n
	}
	i := pickItem(s)
	for j, a := range f.items[i].addrs {
		if rand.Uint32N(s.maxs[i]) < s.w[i][j] {
			dst[n] = a
			n++
		}
	}
	return n
}
