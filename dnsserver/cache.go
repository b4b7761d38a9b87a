package dnsserver

import (
	"encoding/binary"
	"hash/maphash"
)

// answerCache keeps recent static responses of one UDP reader, packed, so a
// repeated question costs a hash and a copy instead of a zone lookup and a
// packing pass. It holds only what depends on the question and the
// snapshot alone: a response that used a dynamic (DYNA/DYNC) record is
// never stored, and the OPT record (ECS echo, NSID, DO) is written fresh for
// every query. A new snapshot empties it. It is direct-mapped with fixed
// slots, so a flood of distinct names overwrites slots and never allocates.
type answerCache struct {
	snap  *Snapshot
	seed  maphash.Seed
	slots [cacheSlots]cacheSlot
	key   [cacheKeyMax]byte
}

const (
	cacheSlots   = 1024 // a power of two
	cacheKeyMax  = 255 + 8
	cacheBodyMax = 512
)

type cacheSlot struct {
	keyLen    uint16
	bodyLen   uint16
	rcode     uint8
	truncated bool
	key       [cacheKeyMax]byte
	body      [cacheBodyMax]byte // header, question, sections; no OPT
}

func newAnswerCache() *answerCache { return &answerCache{seed: maphash.MakeSeed()} }

// slotFor builds the key (lowercase qname, qtype, qclass, the size limit
// and the OPT reserve, which decide truncation and the additional section)
// and returns its slot; it empties the cache when the snapshot changed.
func (c *answerCache) slotFor(snap *Snapshot, r *request, limit, reserve int) (*cacheSlot, []byte) {
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
	return &c.slots[maphash.Bytes(c.seed, k)&(cacheSlots-1)], k
}

// hit reports whether the slot holds the response for key.
func (s *cacheSlot) hit(key []byte) bool {
	return int(s.keyLen) == len(key) && string(s.key[:s.keyLen]) == string(key)
}

// store keeps body (a response without OPT) under key, if it fits.
func (s *cacheSlot) store(key, body []byte, rcode int, truncated bool) {
	if len(body) > cacheBodyMax {
		return
	}
	s.keyLen = uint16(copy(s.key[:], key))
	s.bodyLen = uint16(copy(s.body[:], body))
	s.rcode, s.truncated = uint8(rcode), truncated
}

// replay writes the cached response for r into w: the query's ID, RD and CD
// bits and question bytes (its case) replace the stored ones.
func (s *cacheSlot) replay(w *writer, r *request, q []byte) {
	w.buf = append(w.buf[:0], s.body[:s.bodyLen]...)
	binary.BigEndian.PutUint16(w.buf[0:], r.id)
	flags := binary.BigEndian.Uint16(w.buf[2:])&^(flagRD|flagCD) | r.flags&(flagRD|flagCD)
	binary.BigEndian.PutUint16(w.buf[2:], flags)
	copy(w.buf[12:], q)
}
