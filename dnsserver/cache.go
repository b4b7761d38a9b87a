package dnsserver

import (
	"encoding/binary"
	"hash/maphash"
)

// answerCache keeps recent packed replies of one UDP reader, so a repeated
// question costs a hash and a copy instead of a zone lookup, a GeoIP lookup
// and a packing pass. The OPT record (ECS echo, NSID, DO) is never stored:
// it is written fresh for every query. A new snapshot (reload or
// admin_state change) empties the cache.
//
// Static replies depend on the question alone and live in the slot of the
// question's hash. A reply that used DYNA/DYNC records is stored with the
// networks it holds for (geo reports them: every client in the same merged
// map entry gets the same answer) and is replayed only to clients inside
// them; it lives in a slot chosen by the question and the client's /16 (v4)
// or /32 (v6), so clients of different regions asking the same name do not
// keep evicting each other. Both kinds are direct-mapped with fixed slots:
// a flood of new names or clients overwrites slots and never allocates.
//
// A signed reply is cached like any other: its RRSIGs outlive the cache,
// as the snapshot is rebuilt before the signer refreshes them.
type answerCache struct {
	snap  *Snapshot
	seed  maphash.Seed
	slots [cacheSlots]cacheSlot
	key   [cacheKeyMax]byte

	// The last lookup's key and slots, which store reuses on a miss.
	keyLen          int
	static, dynamic *cacheSlot
}

const (
	cacheSlots   = 1024 // a power of two
	cacheKeyMax  = 255 + 9
	cacheBodyMax = 512
)

type cacheSlot struct {
	keyLen    uint16
	bodyLen   uint16
	rcode     uint8
	truncated bool
	nx        bool // the name does not exist (worker.nx)
	dyn       bool
	scope     uint8 // ECS scope of a dynamic reply
	valid     dynValidity
	key       [cacheKeyMax]byte
	body      [cacheBodyMax]byte // header, question, sections; no OPT
}

func newAnswerCache() *answerCache { return &answerCache{seed: maphash.MakeSeed()} }

// lookup builds the key (lowercase qname, qtype, qclass, the size limit and
// the OPT reserve, which decide truncation and the additional section, and
// cacheFlags). It
// returns the slot holding a reply for this query and client, if any, and
// remembers the key and slots for store.
func (c *answerCache) lookup(snap *Snapshot, r *request, cl *Client, limit, reserve int) *cacheSlot {
	if c.snap != snap {
		for i := range c.slots {
			c.slots[i].keyLen = 0
		}
		c.snap = snap
	}
	k := append(c.key[:0], r.lower()...)
	k = binary.BigEndian.AppendUint16(k, r.qtype)
	k = binary.BigEndian.AppendUint16(k, r.qclass)
	k = binary.BigEndian.AppendUint16(k, uint16(limit))
	k = binary.BigEndian.AppendUint16(k, uint16(reserve))
	k = append(k, cacheFlags(r, cl))
	h := maphash.Bytes(c.seed, k)
	c.keyLen, c.static, c.dynamic = len(k), &c.slots[h&(cacheSlots-1)], nil
	if s := c.static; s.holds(k) && !s.dyn {
		return s // a static hit needs no dynamic slot
	}
	c.dynamic = c.dynamicSlot(h, cl)
	if s := c.dynamic; s.holds(k) && s.dyn && s.valid.holds(cl) {
		return s
	}
	return nil
}

// cacheFlags are the key's bits that are not in the question: whether the
// query has ECS, which decides the address geo uses, and DO and CO, which
// decide whether and how a signed zone's reply is signed.
func cacheFlags(r *request, cl *Client) byte {
	var f byte
	if cl.HasECS {
		f |= 1
	}
	if r.do {
		f |= 2
	}
	if r.co {
		f |= 4
	}
	return f
}

// dynamicSlot is the slot for the key of hash h asked by a client in cl's /16
// or /32 (of the ECS address when the query has one, else the source).
func (c *answerCache) dynamicSlot(h uint64, cl *Client) *cacheSlot {
	a := cl.Src
	if cl.HasECS {
		a = cl.ECS
	}
	var b [8 + 5]byte
	k := binary.BigEndian.AppendUint64(b[:0], h)
	if a.Is4() {
		v4 := a.As4()
		k = append(k, 4, v4[0], v4[1])
	} else {
		v6 := a.As16()
		k = append(k, 6, v6[0], v6[1], v6[2], v6[3])
	}
	return &c.slots[maphash.Bytes(c.seed, k)&(cacheSlots-1)]
}

// holds reports whether the slot is keyed by key.
func (s *cacheSlot) holds(key []byte) bool {
	return int(s.keyLen) == len(key) && string(s.key[:s.keyLen]) == string(key)
}

// store keeps body (a reply without OPT), after a lookup that missed, in
// the slot its kind belongs to, if it fits. d is the query's dynamic
// context: a reply that used dynamic records is stored only when d says
// for which clients.
func (c *answerCache) store(body []byte, rcode int, nx, truncated bool, d *dynCtx) {
	if len(body) > cacheBodyMax || (d.used && !d.valid.cacheable) {
		return
	}
	s := c.static
	if d.used {
		s = c.dynamic
		s.valid, s.scope = d.valid, d.scope
	}
	s.dyn = d.used
	s.keyLen = uint16(copy(s.key[:], c.key[:c.keyLen]))
	s.bodyLen = uint16(copy(s.body[:], body))
	s.rcode, s.nx, s.truncated = uint8(rcode), nx, truncated
}

// replay writes the cached reply for r into w: the query's ID, RD and CD
// bits and question bytes (its case) replace the stored ones. For a
// dynamic reply it sets d as the resolutions did (ECS scope) and counts
// them again, so metrics do not depend on the cache.
func (s *cacheSlot) replay(w *writer, r *request, q []byte, d *dynCtx, st *Stats) {
	w.buf = append(w.buf[:0], s.body[:s.bodyLen]...)
	binary.BigEndian.PutUint16(w.buf[0:], r.id)
	flags := binary.BigEndian.Uint16(w.buf[2:])&^(flagRD|flagCD) | r.flags&(flagRD|flagCD)
	binary.BigEndian.PutUint16(w.buf[2:], flags)
	copy(w.buf[12:], q)
	*d = dynCtx{used: s.dyn, scope: s.scope}
	if s.dyn {
		st.Dyn.Add(1)
		for _, n := range s.valid.counts[:s.valid.n] {
			st.countDynAt(n.reason, n.slot)
		}
	}
}

// newUDPWorker is a UDP reader's worker, with its own answer cache.
func newUDPWorker(st *Stats) *worker {
	wk := newWorker(st)
	wk.cache = newAnswerCache()
	return wk
}
