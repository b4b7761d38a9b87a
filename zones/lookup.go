package zones

import (
	"net/netip"

	"github.com/miekg/dns"
)

// Item is one RRset to write into a section.
type Item struct {
	Set   *RRset // static data; nil for dynamic items
	Owner []byte // owner to write (wire); the writer compresses it against the question

	// Dynamic answers (DYNA addresses or a DYNC CNAME).
	Addrs    []netip.Addr
	AddrType uint16 // dns.TypeA or dns.TypeAAAA
	CNAME    []byte // wire target of a DYNC CNAME
	TTL      uint32

	// Synth says Set is answered at a name that is not its own (a
	// wildcard expansion, RFC 8482's HINFO): it is signed at Owner, not
	// from the set's signatures made at load.
	Synth bool
}

// Result is the outcome of a lookup. Its slices are reused across lookups
// by the caller (Reset keeps their capacity), so answering allocates nothing.
type Result struct {
	Zone       *Zone
	Rcode      int
	AA         bool
	Answer     []Item
	Authority  []Item
	Additional []Item
	// Denial is what a signed reply proves absent; unsigned replies
	// ignore it.
	Denial Denial

	dyn DynAnswer // scratch for dynamic answers; here so it never escapes per query
}

// Denial says which name a signed reply must prove something absent at
// (RFC 9824's compact answers prove it with one NSEC at that name).
type Denial struct {
	// Owner is the lowercase wire name: the query name, the last CNAME
	// target, or the delegation point of a referral. nil: nothing to prove.
	Owner []byte
	// Node is what exists at Owner (for a wildcard NODATA, the wildcard;
	// for a referral, the cut); nil: the name does not exist.
	Node *Node
	// Referral: the proof is the cut's DS set, or that it has none.
	Referral bool
}

// Reset empties r for reuse.
func (r *Result) Reset() {
	r.Zone, r.Rcode, r.AA = nil, dns.RcodeSuccess, false
	r.Denial = Denial{}
	r.Answer, r.Authority, r.Additional = r.Answer[:0], r.Authority[:0], r.Additional[:0]
}

// DynAnswer is what a DynResolver returns for one dynamic record.
type DynAnswer struct {
	V4, V6 []netip.Addr
	CNAME  []byte // wire; only for DYNC
	TTL    uint32 // already clamped to the record's [MIN, MAX]
}

// DynResolver answers DYNA/DYNC records for the current query (it knows the
// client). Implementations must not allocate per call.
type DynResolver interface {
	ResolveDyn(d *Dyn, out *DynAnswer)
}

// maxChain bounds CNAME following within a zone (as BIND, Knot and NSD).
const maxChain = 8

// FindZone returns the most specific zone containing name (lowercase wire).
func (s *Set) FindZone(name []byte) *Zone {
	var offs [128]int
	n := labelOffsets(name, &offs)
	for i := 0; i < n; i++ {
		if z := s.zones[string(name[offs[i]:])]; z != nil {
			return z
		}
	}
	return s.zones["\x00"]
}

// Lookup answers qname (lowercase wire) / qtype into res.
func (s *Set) Lookup(qname []byte, qtype uint16, dr DynResolver, res *Result) {
	z := s.FindZone(qname)
	if z == nil {
		res.Rcode = dns.RcodeRefused
		return
	}
	if qtype == dns.TypeDS && len(qname) > 1 && string(qname) == string(z.Apex) {
		// The DS set lives in the parent zone (RFC 4035 §3.1.4.1): when it
		// is served here too and delegates, it answers.
		if p := s.FindZone(qname[1+int(qname[0]):]); p != nil {
			if n := p.nodes[string(qname)]; n != nil && n.Cut {
				z = p
			}
		}
	}
	res.Zone, res.AA = z, true
	var visited [maxChain + 1][]byte
	name := qname
	for hop := 0; ; hop++ {
		visited[hop] = name
		target := s.lookupName(z, name, qtype, hop == 0, dr, res)
		if target == nil || s.noChain || hop == maxChain || !isSubdomain(target, z.Apex) {
			return
		}
		for _, v := range visited[:hop+1] {
			if string(v) == string(target) {
				return // loop: answer with the chain so far
			}
		}
		name = target
	}
}

// lookupName answers one name of a (possible) CNAME chain and returns the
// CNAME target to follow, if any.
func (s *Set) lookupName(z *Zone, name []byte, qtype uint16, first bool, dr DynResolver, res *Result) []byte {
	var offs [128]int
	n := labelOffsets(name, &offs)
	// Walk down from just below the apex: stop at a delegation, or where
	// the tree ends (every ancestor of a node exists, empty or not).
	encloser := z.nodes[string(z.Apex)]
	exact := n == z.labels
	for i := n - z.labels - 1; i >= 0; i-- {
		node := z.nodes[string(name[offs[i]:])]
		if node == nil {
			break
		}
		if node.Cut && !(i == 0 && qtype == dns.TypeDS) {
			if first {
				res.AA = false
				ns := node.Find(dns.TypeNS)
				res.Authority = append(res.Authority, Item{Set: ns, Owner: ns.Owner})
				res.Additional = appendAdditional(res.Additional, ns)
				res.Denial = Denial{Owner: name[offs[i]:], Node: node, Referral: true}
			}
			return nil
		}
		encloser = node
		exact = i == 0
	}
	node := encloser
	if !exact {
		// RFC 4592: a wildcard child of the closest encloser answers.
		var key [256]byte
		key[0], key[1] = 1, '*'
		ce := encloser.Owner
		wl := copy(key[2:], ce)
		LowerInto(key[2:2+wl], ce)
		node = z.nodes[string(key[:2+wl])]
		if node == nil {
			res.Rcode = dns.RcodeNameError
			res.Authority = append(res.Authority, Item{Set: z.NegSOA, Owner: z.NegSOA.Owner})
			res.Denial = Denial{Owner: name}
			return nil
		}
	}
	return s.answerNode(z, node, name, !exact, qtype, dr, res)
}

// answerNode answers name (lowercase wire) from node: its own, or the
// wildcard that matched it (wild), whose records are answered at name.
func (s *Set) answerNode(z *Zone, node *Node, name []byte, wild bool, qtype uint16, dr DynResolver, res *Result) []byte {
	owner := node.Owner
	if wild {
		owner = name
	}
	if node.CNAME != nil {
		res.Answer = append(res.Answer, Item{Set: node.CNAME, Owner: owner, Synth: wild})
		if qtype == dns.TypeCNAME {
			return nil
		}
		return node.CNAME.Target
	}
	if qtype == dns.TypeANY && (node.Dyn == nil || !node.Dyn.DYNC) {
		// RFC 8482's one HINFO, at every name that exists (an empty
		// non-terminal too), as gdnsd.
		res.Answer = append(res.Answer, Item{Set: s.hinfo, Owner: owner, Synth: true})
		return nil
	}
	if d := node.Dyn; d != nil && (d.DYNC || qtype == dns.TypeA || qtype == dns.TypeAAAA) {
		da := &res.dyn
		*da = DynAnswer{}
		dr.ResolveDyn(d, da)
		if d.DYNC && len(da.CNAME) > 0 {
			res.Answer = append(res.Answer, Item{Owner: owner, CNAME: da.CNAME, TTL: da.TTL})
			if qtype == dns.TypeCNAME || qtype == dns.TypeANY {
				return nil
			}
			return lowerTarget(da.CNAME)
		}
		if qtype == dns.TypeANY {
			// A DYNC answering addresses is a name with data: HINFO.
			res.Answer = append(res.Answer, Item{Set: s.hinfo, Owner: owner, Synth: true})
			return nil
		}
		addrs := da.V4
		if qtype == dns.TypeAAAA {
			addrs = da.V6
		}
		if (qtype == dns.TypeA || qtype == dns.TypeAAAA) && len(addrs) > 0 {
			res.Answer = append(res.Answer, Item{Owner: owner, Addrs: addrs, AddrType: qtype, TTL: da.TTL})
			return nil
		}
		res.Authority = append(res.Authority, Item{Set: z.NegSOA, Owner: z.NegSOA.Owner})
		res.Denial = Denial{Owner: name, Node: node}
		return nil
	}
	if set := node.Find(qtype); set != nil {
		res.Answer = append(res.Answer, Item{Set: set, Owner: owner, Synth: wild})
		if !s.noAdditional {
			res.Additional = appendAdditional(res.Additional, set)
		}
		return nil
	}
	res.Authority = append(res.Authority, Item{Set: z.NegSOA, Owner: z.NegSOA.Owner})
	res.Denial = Denial{Owner: name, Node: node}
	return nil
}

func appendAdditional(dst []Item, s *RRset) []Item {
	for _, a := range s.Additional {
		dst = append(dst, Item{Set: a, Owner: a.Owner})
	}
	return dst
}

// lowerTarget returns t if it is already lowercase (the usual case, as
// DynResolvers precompute lowercase targets), so following stays
// allocation-free.
func lowerTarget(t []byte) []byte {
	for _, c := range t {
		if 'A' <= c && c <= 'Z' {
			return lowerWire(t)
		}
	}
	return t
}
