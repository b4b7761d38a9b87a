package zones

import (
	"fmt"
	"sort"

	"github.com/miekg/dns"
)

// Node is one owner name in a zone. A node with no sets and no Dyn is an
// empty non-terminal (it exists, so queries for it are NODATA).
type Node struct {
	Owner []byte // wire, zone case
	Sets  []*RRset
	CNAME *RRset
	Dyn   *Dyn
	Cut   bool // NS below the apex: a delegation point
}

// Find returns the set of type t, or nil.
func (n *Node) Find(t uint16) *RRset {
	for _, s := range n.Sets {
		if s.Type == t {
			return s
		}
	}
	return nil
}

// Zone is one loaded zone, immutable once built.
type Zone struct {
	Name   string // presentation, lowercase, with trailing dot
	Apex   []byte // lowercase wire
	File   string
	Serial uint32
	labels int
	nodes  map[string]*Node // by lowercase wire owner
	SOA    *RRset
	NegSOA *RRset // SOA with TTL min(SOA TTL, MINIMUM) for negative answers
	Dyns   []*Dyn
}

// Node returns the node for a lowercase wire name.
func (z *Zone) Node(name []byte) *Node { return z.nodes[string(name)] }

// Len is the number of owner names (including empty non-terminals).
func (z *Zone) Len() int { return len(z.nodes) }

type builder struct {
	z        *Zone
	opt      Options
	errs     []error
	warnings []string
	scratch  []byte // packing buffer
}

func newBuilder(name, file string, opt Options) (*builder, error) {
	apex, err := wireName(name)
	if err != nil {
		return nil, err
	}
	z := &Zone{Name: dns.CanonicalName(name), Apex: lowerWire(apex), File: file, nodes: map[string]*Node{}}
	var offs [128]int
	z.labels = labelOffsets(z.Apex, &offs)
	return &builder{z: z, opt: opt}, nil
}

func (b *builder) errorf(where, format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf("%s: "+format, append([]any{where}, args...)...))
}

// warnf records one of the data warnings gdnsd's zones_strict_data turns
// into errors.
func (b *builder) warnf(where, format string, args ...any) {
	if b.opt.Strict {
		b.errorf(where, format, args...)
		return
	}
	b.notef(where, format, args...)
}

// notef records a warning that stays one in strict mode.
func (b *builder) notef(where, format string, args ...any) {
	b.warnings = append(b.warnings, fmt.Sprintf("%s: "+format, append([]any{where}, args...)...))
}

// clampTTL keeps a TTL within [MinTTL, MaxTTL], as gdnsd, and says what
// it did ("" when nothing).
func clampTTL(ttl uint32, what string) (uint32, string) {
	switch {
	case ttl < MinTTL:
		return MinTTL, fmt.Sprintf("%s TTL %d too small, raised to %d", what, ttl, MinTTL)
	case ttl > MaxTTL:
		return MaxTTL, fmt.Sprintf("%s TTL %d too large, lowered to %d", what, ttl, MaxTTL)
	}
	return ttl, ""
}

// node returns the node of owner (key: owner lowercased), adding it.
func (b *builder) node(key, owner []byte) *Node {
	n := b.z.nodes[string(key)]
	if n == nil {
		n = &Node{Owner: owner}
		b.z.nodes[string(key)] = n
	}
	return n
}

func (b *builder) add(rr dns.RR, p pos, checker DynChecker) {
	h := rr.Header()
	owner, err := wireName(h.Name)
	if err != nil {
		b.errorf(p.String(), "%v", err)
		return
	}
	key := lowerWire(owner)
	if !isSubdomain(key, b.z.Apex) {
		// gdnsd ignores such records, with a warning.
		b.warnf(p.String(), "%s is outside zone %s: ignored", h.Name, b.z.Name)
		return
	}
	if h.Class != dns.ClassINET {
		b.errorf(p.String(), "class %s is not supported (only IN)", dns.ClassToString[h.Class])
		return
	}
	n := b.node(key, owner)
	if h.Rrtype == TypeDYNA || h.Rrtype == TypeDYNC {
		b.addDyn(n, rr, owner, p.String(), checker)
		return
	}
	var clamped string
	if h.Ttl, clamped = clampTTL(h.Ttl, dns.TypeToString[h.Rrtype]); clamped != "" {
		b.notef(p.String(), "%s", clamped)
	}
	if h.Rrtype == dns.TypeCNAME {
		if n.CNAME == nil {
			n.CNAME = &RRset{Owner: owner, Type: dns.TypeCNAME, Class: h.Class, TTL: h.Ttl}
			t, _ := wireName(rr.(*dns.CNAME).Target)
			n.CNAME.Target = lowerWire(t)
		} else {
			b.errorf(p.String(), "%s has more than one CNAME", h.Name)
			return
		}
		if err := n.CNAME.add(rr, p, &b.scratch); err != nil {
			b.errs = append(b.errs, err)
		}
		return
	}
	s := n.Find(h.Rrtype)
	if s == nil {
		s = &RRset{Owner: owner, Type: h.Rrtype, Class: h.Class, TTL: h.Ttl}
		n.Sets = append(n.Sets, s)
	} else if s.TTL != h.Ttl {
		b.warnf(p.String(), "the TTLs of the %s records at %s differ: using %d, the first",
			dns.TypeToString[h.Rrtype], h.Name, s.TTL)
	}
	if err := s.add(rr, p, &b.scratch); err != nil {
		b.errs = append(b.errs, err)
	}
}

func (b *builder) addDyn(n *Node, rr dns.RR, owner []byte, where string, checker DynChecker) {
	h := rr.Header()
	pr, ok := rr.(*dns.PrivateRR)
	if !ok {
		b.errorf(where, "internal: DYNA/DYNC not parsed as a private RR")
		return
	}
	d := pr.Data.(*dynRdata)
	plugin, res, dc, err := parseDynSpec(d.Spec)
	if err != nil {
		b.errorf(where, "%v", err)
		return
	}
	if n.Dyn != nil {
		b.errorf(where, "%s already has a DYNA/DYNC record (at %s)", h.Name, n.Dyn.where)
		return
	}
	dyn := &Dyn{Owner: owner, DYNC: h.Rrtype == TypeDYNC, Plugin: plugin, Resource: res, DC: dc, where: where}
	dyn.setTTLs(b, h.Ttl, d.MinTTL)
	if checker == nil {
		b.errorf(where, "%s: dynamic records need a geoip configuration", d.Spec)
		return
	}
	handle, err := checker.CheckDyn(plugin, res, dc, dyn.DYNC)
	if err != nil {
		b.errorf(where, "%s: %v", d.Spec, err)
		return
	}
	dyn.Handle = handle
	n.Dyn = dyn
	b.z.Dyns = append(b.z.Dyns, dyn)
}

// finish validates the zone as a whole and precomputes lookup aids.
func (b *builder) finish() (*Zone, error) {
	z := b.z
	apex := z.nodes[string(z.Apex)]
	where := z.File + ":1"
	switch {
	case apex == nil || apex.Find(dns.TypeSOA) == nil:
		b.errorf(where, "zone %s has no SOA at the apex", z.Name)
	case len(apex.Find(dns.TypeSOA).RData) > 1:
		b.errorf(apex.Find(dns.TypeSOA).lines[1].String(), "zone %s has more than one SOA", z.Name)
	default:
		z.SOA = apex.Find(dns.TypeSOA)
		b.soaTTLs()
	}
	if apex != nil && apex.Find(dns.TypeNS) == nil {
		b.errorf(where, "zone %s has no NS records at the apex", z.Name)
	}
	keys := make([]string, 0, len(z.nodes))
	for k := range z.nodes {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error order
	for _, k := range keys {
		n := z.nodes[k]
		name := lazyName(n.Owner)
		others := len(n.Sets) > 0 || n.Dyn != nil
		if n.CNAME != nil && others {
			b.errorf(n.CNAME.lines[0].String(), "CNAME at %s beside other data", name)
		}
		if n.Dyn != nil {
			if n.Dyn.DYNC && len(n.Sets) > 0 {
				b.errorf(n.Dyn.where, "DYNC at %s beside other data", name)
			}
			for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
				if s := n.Find(t); s != nil && !n.Dyn.DYNC {
					b.errorf(s.lines[0].String(), "static %s at %s beside DYNA", dns.TypeToString[t], name)
				}
			}
		}
		if string(k) != string(z.Apex) && n.Find(dns.TypeNS) != nil {
			n.Cut = true
		}
		if string(k) == string(z.Apex) && n.Dyn != nil && n.Dyn.DYNC {
			b.errorf(n.Dyn.where, "DYNC cannot be at the zone apex")
		}
	}
	b.checkData(keys)
	b.addEmptyNonTerminals()
	b.linkAdditional()
	if len(b.errs) > 0 {
		return nil, joinErrs(b.errs)
	}
	// The parsed records were for the checks; answers use the packed
	// RDATA, and RRs unpacks it again for tools.
	for _, n := range z.nodes {
		for _, s := range n.Sets {
			s.rrs = nil
		}
		if n.CNAME != nil {
			n.CNAME.rrs = nil
		}
	}
	return z, nil
}

// lazyName prints a wire name in messages; most nodes never need it.
type lazyName []byte

func (w lazyName) String() string { return presentation(w) }

func (b *builder) addEmptyNonTerminals() {
	z := b.z
	var offs [128]int
	for k := range z.nodes {
		w := []byte(k)
		n := labelOffsets(w, &offs)
		for i := 1; i < n-z.labels; i++ {
			anc := w[offs[i]:]
			if _, ok := z.nodes[string(anc)]; !ok {
				z.nodes[string(anc)] = &Node{Owner: append([]byte(nil), anc...)}
			}
		}
	}
}

// linkAdditional attaches in-zone A/AAAA sets of NS, MX and SRV targets
// (including glue below cuts), and refuses NS targets that are DYNA.
func (b *builder) linkAdditional() {
	z := b.z
	for _, n := range z.nodes {
		for _, s := range n.Sets {
			for i, t := range s.targets() {
				tn := z.nodes[string(t)]
				if tn == nil {
					continue
				}
				if s.Type == dns.TypeNS && tn.Dyn != nil {
					b.errorf(s.lines[min(i, len(s.lines)-1)].String(), "NS target %s uses DYNA/DYNC", presentation(t))
					continue
				}
				for _, at := range []uint16{dns.TypeA, dns.TypeAAAA} {
					if as := tn.Find(at); as != nil {
						s.Additional = append(s.Additional, as)
					}
				}
			}
		}
	}
}

func joinErrs(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return multiError(errs)
}

// multiError prints one error per line, each already `file:line: reason`.
type multiError []error

func (m multiError) Error() string {
	s := ""
	for i, e := range m {
		if i > 0 {
			s += "\n"
		}
		s += e.Error()
	}
	return s
}

// Unwrap lets errors.Is/As see every error.
func (m multiError) Unwrap() []error { return m }

// Walk calls fn for every node of the zone, in no particular order.
func (z *Zone) Walk(fn func(*Node)) {
	for _, n := range z.nodes {
		fn(n)
	}
}
