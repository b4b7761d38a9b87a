package dnssec

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"sync"

	"github.com/geotraffic/geotraffic/zones"
)

// cacheShards spreads the lock of a hot entry's neighbours; a power of two.
const cacheShards = 64

// cache maps the content of an RRset (zone, owner, type, TTL, sorted
// RDATA) to its signatures. It is bounded: a full shard drops an entry
// chosen by map iteration (close to random, which resists a flood better
// than LRU and costs nothing on a hit). An entry is stale from its
// refresh-at instant on.
type cache struct {
	seed   maphash.Seed
	shards [cacheShards]shard
	limit  int // entries per shard
	keys   sync.Pool
}

type shard struct {
	mu      sync.Mutex
	m       map[uint64]*entry
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
	}
	c.keys.New = func() any { return &keyBuf{b: make([]byte, 0, 512)} }
	return c
}

// appendKey appends the cache key of an RRset: zone index, type, TTL,
// lowercased owner, then each distinct RDATA (length-prefixed) in byte
// order, so that the same set in any order has one key. Sorting is a
// selection over rdata: no allocation, and sets are small.
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

// get returns the fresh signatures stored under key, or nil.
func (c *cache) get(key []byte, hash uint64, now int64) [][]byte {
	sh := &c.shards[hash%cacheShards]
	sh.mu.Lock()
	e := sh.m[hash]
	if e != nil && now < e.refresh && bytes.Equal(e.key, key) {
		sh.hits++
		sigs := e.sigs
		sh.mu.Unlock()
		return sigs
	}
	sh.misses++
	sh.mu.Unlock()
	return nil
}

// put stores sigs under a copy of key until refresh, evicting when full.
func (c *cache) put(key []byte, hash uint64, sigs [][]byte, refresh int64) {
	e := &entry{key: bytes.Clone(key), sigs: sigs, refresh: refresh}
	sh := &c.shards[hash%cacheShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[hash]; !ok && len(sh.m) >= c.limit {
		for h := range sh.m {
			delete(sh.m, h)
			sh.evicted++
			break
		}
	}
	sh.m[hash] = e
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
