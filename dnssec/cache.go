package dnssec

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"sync"

	"github.com/geotraffic/geotraffic/zones"
)

// cacheShards spreads lock contention: each shard has its own lock.
const cacheShards = 64

// cache maps the content of an RRset (zone, owner, type, TTL, sorted
// RDATA) to its signatures. It is bounded: a full shard drops an entry
// chosen by map iteration (close to random, which resists a flood better
// than LRU and costs nothing on a hit). An entry is stale from its
// refresh-at instant on. Concurrent misses of one key sign it once.
type cache struct {
	seed   maphash.Seed
	shards [cacheShards]shard
	limit  int // entries per shard
	keys   sync.Pool
}

type shard struct {
	mu      sync.Mutex
	m       map[uint64]*entry
	pending map[uint64]*signing
	hits    uint64
	misses  uint64
	evicted uint64
	_       [64]byte // keeps shards' hot fields off each other's cache lines
}

type entry struct {
	key     []byte
	sigs    [][]byte
	refresh int64 // unix nanoseconds
}

// keyBuf is scratch for building a cache key without allocating.
type keyBuf struct{ b []byte }

func newCache(entries int) *cache {
	c := &cache{seed: maphash.MakeSeed(), limit: max(entries/cacheShards, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*entry)
		c.shards[i].pending = make(map[uint64]*signing)
	}
	c.keys.New = func() any { return &keyBuf{b: make([]byte, 0, 2*stackKey)} }
	return c
}

// stackKey is the largest cache key built on the stack: a few hundred
// bytes hold an owner and a dozen addresses.
const stackKey = 512

// keyLen is the length appendKey gives (at most: duplicates are dropped).
func keyLen(owner []byte, rdata [][]byte) int {
	n := 11 + len(owner)
	for _, rd := range rdata {
		n += 2 + len(rd)
	}
	return n
}

// appendKey appends the cache key of an RRset: zone index, type, TTL,
// lowercased owner, then each distinct RDATA (length-prefixed) in byte
// order, so that the same set in any order has one key. Sorting is a
// selection over rdata: quadratic, but it allocates nothing and answer
// sets are small.
func appendKey(b []byte, zone uint32, owner []byte, typ uint16, ttl uint32, rdata [][]byte) []byte {
	b = binary.BigEndian.AppendUint32(b, zone)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = append(b, byte(len(owner)))
	n := len(b)
	b = append(b, owner...)
	zones.LowerInto(b[n:], owner)
	var last []byte
	for first := true; ; first = false {
		var next []byte
		found := false
		for _, rd := range rdata {
			if (first || bytes.Compare(rd, last) > 0) && (!found || bytes.Compare(rd, next) < 0) {
				next, found = rd, true
			}
		}
		if !found {
			return b
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(next)))
		b = append(b, next...)
		last = next
	}
}

// signing is a miss being signed: whoever misses the same key meanwhile
// waits for it rather than signing it again.
type signing struct {
	key  []byte // a copy, kept by the entry
	done chan struct{}
	sigs [][]byte // set before done is closed
}

// lookup returns the fresh signatures stored under key; else the signing
// of key in progress to wait for; else a new signing that the caller must
// finish.
func (c *cache) lookup(key []byte, hash uint64, now int64) (sigs [][]byte, wait, own *signing) {
	sh := &c.shards[hash%cacheShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.m[hash]; e != nil && now < e.refresh && bytes.Equal(e.key, key) {
		sh.hits++
		return e.sigs, nil, nil
	}
	sh.misses++
	p := sh.pending[hash]
	if p != nil && bytes.Equal(p.key, key) {
		return nil, p, nil
	}
	own = &signing{key: bytes.Clone(key), done: make(chan struct{})}
	if p == nil { // else another key with this hash is signing: no waiting on this one
		sh.pending[hash] = own
	}
	return nil, nil, own
}

// finish stores the signatures of own until refresh (unless nil: signing
// failed), evicting an entry when the shard is full, and wakes its waiters.
func (c *cache) finish(own *signing, hash uint64, sigs [][]byte, refresh int64) {
	sh := &c.shards[hash%cacheShards]
	sh.mu.Lock()
	if sigs != nil {
		if _, ok := sh.m[hash]; !ok && len(sh.m) >= c.limit {
			for h := range sh.m {
				delete(sh.m, h)
				sh.evicted++
				break
			}
		}
		sh.m[hash] = &entry{key: own.key, sigs: sigs, refresh: refresh}
	}
	if sh.pending[hash] == own {
		delete(sh.pending, hash)
	}
	sh.mu.Unlock()
	own.sigs = sigs
	close(own.done)
}

// counts sums the shards' counters.
func (c *cache) counts() (hits, misses, evicted uint64, entries int) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		hits += sh.hits
		misses += sh.misses
		evicted += sh.evicted
		entries += len(sh.m)
		sh.mu.Unlock()
	}
	return
}

func (c *cache) hash(key []byte) uint64 { return maphash.Bytes(c.seed, key) }
