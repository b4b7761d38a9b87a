package geo

import "sort"

// leafBit marks a tree reference as a leaf (the low bits are a leaf id);
// otherwise the reference is a node index into tree.nodes.
const leafBit = 1 << 31

// tree is an immutable binary prefix tree over one map. nodes holds two
// child references per node. IPv4 and IPv6 have separate roots; IPv4
// addresses are walked from the top 32 bits of a u128.
type tree struct {
	nodes []uint32
	root4 uint32
	root6 uint32
	// jump4/jump6 hold where the walk stands after the first jumpBits bits
	// of an address: the dependent loads of the top of the tree, which a
	// bit-by-bit walk pays on every query, become one.
	jump4, jump6 []jump
}

const jumpBits = 16

type jump struct {
	ref   uint32
	depth uint8
}

// walk descends from the jump table entry until a leaf; depth is the merged
// prefix length, i.e. the ECS scope. No allocation.
func (t *tree) walk(jt []jump, x u128) (leaf uint32, depth int) {
	e := jt[x.hi>>(64-jumpBits)]
	ref, depth := e.ref, int(e.depth)
	for ref&leafBit == 0 {
		ref = t.nodes[2*ref+uint32(x.bit(depth))]
		depth++
	}
	return ref &^ leafBit, depth
}

// makeJumps precomputes the walk from root for every jumpBits-bit prefix.
func (t *tree) makeJumps(root uint32) []jump {
	jt := make([]jump, 1<<jumpBits)
	for i := range jt {
		ref, d := root, 0
		for ref&leafBit == 0 && d < jumpBits {
			ref = t.nodes[2*ref+uint32(i>>(jumpBits-1-d))&1]
			d++
		}
		jt[i] = jump{ref, uint8(d)}
	}
	return jt
}

// rng is a run of addresses [start, end] with one leaf.
type rng struct {
	start, end u128
	leaf       uint32
}

// netNode is a node of the small build-time trie of `nets` entries.
type netNode struct {
	kids [2]*netNode
	has  bool
	leaf uint32
}

func (n *netNode) insert(x u128, bits int, leaf uint32) {
	for i := 0; i < bits; i++ {
		b := x.bit(i)
		if n.kids[b] == nil {
			n.kids[b] = &netNode{}
		}
		n = n.kids[b]
	}
	n.has, n.leaf = true, leaf
}

// treeBuilder merges GeoIP ranges and nets into tree nodes. sameList tells
// whether two leaves answer the same DC list, the condition to merge them.
type treeBuilder struct {
	t        *tree
	cover    []rng // sorted, contiguous, whole space, adjacent lists differ
	sameList func(a, b uint32) bool
}

// coverSpace sorts the DB ranges and fills the gaps with def, merging
// neighbours that answer the same list (first one's leaf kept).
func coverSpace(rs []rng, def uint32, sameList func(a, b uint32) bool) []rng {
	sort.Slice(rs, func(i, j int) bool { return rs[i].start.less(rs[j].start) })
	out := make([]rng, 0, len(rs)+1)
	add := func(r rng) {
		if n := len(out); n > 0 && sameList(out[n-1].leaf, r.leaf) {
			out[n-1].end = r.end
			return
		}
		out = append(out, r)
	}
	var cur u128 // next address not yet covered
	done := false
	for _, r := range rs {
		if done || r.end.less(cur) {
			continue // overlaps what is covered (not produced by a valid MMDB)
		}
		if cur.less(r.start) {
			add(rng{cur, prev(r.start), def})
		} else {
			r.start = cur
		}
		add(r)
		if r.end == (u128{^uint64(0), ^uint64(0)}) {
			done = true
		}
		cur = r.end.next()
	}
	if !done {
		add(rng{cur, u128{^uint64(0), ^uint64(0)}, def})
	}
	return out
}

func prev(x u128) u128 {
	if x.lo == 0 {
		return u128{x.hi - 1, ^uint64(0)}
	}
	return u128{x.hi, x.lo - 1}
}

// build returns the reference for the prefix start/bits. Nets win over the
// DB: inside a net, only more specific nets split the answer.
func (b *treeBuilder) build(start u128, bits int, n *netNode, inherited int64) uint32 {
	if n != nil && n.has {
		inherited = int64(n.leaf)
	}
	if n == nil || (n.kids[0] == nil && n.kids[1] == nil) {
		if inherited >= 0 {
			return leafBit | uint32(inherited)
		}
		return b.fromDB(start, bits)
	}
	l := b.build(start, bits+1, n.kids[0], inherited)
	r := b.build(start.withBit(bits), bits+1, n.kids[1], inherited)
	return b.join(l, r)
}

func (b *treeBuilder) fromDB(start u128, bits int) uint32 {
	i := sort.Search(len(b.cover), func(i int) bool { return !b.cover[i].end.less(start) })
	if last := start.lastOf(bits); !b.cover[i].end.less(last) {
		return leafBit | b.cover[i].leaf
	}
	l := b.fromDB(start, bits+1)
	r := b.fromDB(start.withBit(bits), bits+1)
	return b.join(l, r)
}

// join makes a node, or one leaf when both halves answer the same list, so
// the depth of a leaf is the widest prefix with that answer.
func (b *treeBuilder) join(l, r uint32) uint32 {
	if l&leafBit != 0 && r&leafBit != 0 && b.sameList(l&^leafBit, r&^leafBit) {
		return l
	}
	idx := uint32(len(b.t.nodes) / 2)
	b.t.nodes = append(b.t.nodes, l, r)
	return idx
}
