package dnsserver

import (
	"crypto/subtle"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"time"
)

// Server cookies (RFC 7873) in RFC 9018's interoperable format, so every
// server sharing a secret (BIND, NSD, Knot, unbound, and other authdns
// nodes behind one anycast address) accepts the others' cookies:
//
//	version (1) = 1 | reserved (3) = 0 | timestamp (4, Unix seconds) |
//	hash (8) = SipHash-2-4(secret, client cookie | version | reserved |
//	                        timestamp | client IP)
const (
	cookieVersion    = 1
	clientCookieLen  = 8
	serverCookieLen  = 16                                // RFC 9018's format; other lengths are never ours
	cookieOptLen     = clientCookieLen + serverCookieLen // the option this server sends
	cookieMaxAge     = 3600                              // seconds; older cookies are invalid (RFC 9018 §4.3)
	cookieMaxFuture  = 300                               // seconds a timestamp may be ahead (clock skew)
	cookieRefreshAge = 1800                              // a valid cookie older than this is re-issued
)

// CookieSecretLen is the size of a server cookie secret (a SipHash key).
const CookieSecretLen = 16

// Cookies is the server cookie secrets a Snapshot answers with: Current
// mints and validates, Previous (during a rotation) validates only. A nil
// *Cookies in a Snapshot turns cookies off: the option is then ignored.
type Cookies struct {
	cur, prev   [2]uint64 // SipHash keys
	hasPrev     bool
	now         func() time.Time
	Description string // how the secret was obtained, for logs; never the secret
}

// NewCookies returns cookie secrets; previous may be nil.
func NewCookies(current [CookieSecretLen]byte, previous *[CookieSecretLen]byte) *Cookies {
	c := &Cookies{cur: sipKey(current)}
	if previous != nil {
		c.prev, c.hasPrev = sipKey(*previous), true
	}
	return c
}

// WithClock returns a copy of c that reads the time from now (tests).
func (c *Cookies) WithClock(now func() time.Time) *Cookies {
	n := *c
	n.now = now
	return &n
}

func (c *Cookies) clock() uint32 {
	if c.now != nil {
		return uint32(c.now().Unix())
	}
	return uint32(time.Now().Unix())
}

func sipKey(s [CookieSecretLen]byte) [2]uint64 {
	return [2]uint64{binary.LittleEndian.Uint64(s[:8]), binary.LittleEndian.Uint64(s[8:])}
}

// cookieStatus classifies the COOKIE option of a query.
type cookieStatus uint8

const (
	cookieNone       cookieStatus = iota // no option, or cookies are off
	cookieClientOnly                     // a client cookie alone
	cookieValid                          // a server cookie this server made, within its window
	cookieInvalid                        // a server cookie that is not ours, or expired
)

// cookieOption is a query's COOKIE option and the cookie to answer with.
type cookieOption struct {
	present bool
	client  [clientCookieLen]byte
	server  []byte // as received (8 to 32 bytes), into the packet; nil: none
	status  cookieStatus
	out     [serverCookieLen]byte // the server cookie the reply carries
}

// parse reads the first COOKIE option's data; false means a malformed
// length (FORMERR, RFC 7873 §5.2.2).
func (o *cookieOption) parse(d []byte) bool {
	if len(d) != clientCookieLen && (len(d) < clientCookieLen+8 || len(d) > clientCookieLen+32) {
		return false
	}
	o.present = true
	copy(o.client[:], d)
	if len(d) > clientCookieLen {
		o.server = d[clientCookieLen:]
	}
	return true
}

// check classifies the option for a query from src and fills the server
// cookie to send: the received one when it is valid and recent, a new one
// otherwise.
func (c *Cookies) check(o *cookieOption, src netip.Addr) {
	now := c.clock()
	o.status = cookieClientOnly
	if o.server != nil {
		o.status = cookieInvalid
		if c.valid(o, src, now, c.cur) {
			o.status = cookieValid
			if age := int32(now - binary.BigEndian.Uint32(o.server[4:])); age <= cookieRefreshAge {
				copy(o.out[:], o.server)
				return
			}
		} else if c.hasPrev && c.valid(o, src, now, c.prev) {
			o.status = cookieValid // re-issued below under the current secret
		}
	}
	c.mint(o, src, now)
}

// valid reports whether o's server cookie was made with key for src and
// its timestamp is inside the window (serial arithmetic, RFC 1982).
func (c *Cookies) valid(o *cookieOption, src netip.Addr, now uint32, key [2]uint64) bool {
	s := o.server
	if len(s) != serverCookieLen || s[0] != cookieVersion || s[1]|s[2]|s[3] != 0 {
		return false
	}
	age := int32(now - binary.BigEndian.Uint32(s[4:]))
	if age > cookieMaxAge || age < -cookieMaxFuture {
		return false
	}
	var h [8]byte
	binary.LittleEndian.PutUint64(h[:], cookieHash(key, &o.client, s[:8], src))
	return subtle.ConstantTimeCompare(h[:], s[8:]) == 1
}

// mint writes a new server cookie for src, timestamped now, into o.out.
func (c *Cookies) mint(o *cookieOption, src netip.Addr, now uint32) {
	o.out = [serverCookieLen]byte{0: cookieVersion}
	binary.BigEndian.PutUint32(o.out[4:], now)
	binary.LittleEndian.PutUint64(o.out[8:], cookieHash(c.cur, &o.client, o.out[:8], src))
}

// cookieHash is RFC 9018's hash of client cookie | version, reserved and
// timestamp (head) | client address (4 or 16 bytes).
func cookieHash(key [2]uint64, client *[clientCookieLen]byte, head []byte, src netip.Addr) uint64 {
	var msg [clientCookieLen + 8 + 16]byte
	n := copy(msg[:], client[:])
	n += copy(msg[n:], head[:8])
	src = src.Unmap()
	if src.Is4() {
		a := src.As4()
		n += copy(msg[n:], a[:])
	} else {
		a := src.As16()
		n += copy(msg[n:], a[:])
	}
	return sipHash24(key[0], key[1], msg[:n])
}

// sipHash24 is SipHash-2-4 (Aumasson and Bernstein) with a 64-bit output,
// as RFC 9018 uses it.
func sipHash24(k0, k1 uint64, p []byte) uint64 {
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	n := len(p)
	for ; len(p) >= 8; p = p[8:] {
		m := binary.LittleEndian.Uint64(p)
		v3 ^= m
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
		v0 ^= m
	}
	var last [8]byte
	copy(last[:], p)
	last[7] = byte(n)
	m := binary.LittleEndian.Uint64(last[:])
	v3 ^= m
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	v0 ^= m
	v2 ^= 0xff
	for range 4 {
		v0, v1, v2, v3 = sipRound(v0, v1, v2, v3)
	}
	return v0 ^ v1 ^ v2 ^ v3
}

func sipRound(v0, v1, v2, v3 uint64) (uint64, uint64, uint64, uint64) {
	v0 += v1
	v1 = bits.RotateLeft64(v1, 13) ^ v0
	v0 = bits.RotateLeft64(v0, 32)
	v2 += v3
	v3 = bits.RotateLeft64(v3, 16) ^ v2
	v0 += v3
	v3 = bits.RotateLeft64(v3, 21) ^ v0
	v2 += v1
	v1 = bits.RotateLeft64(v1, 17) ^ v2
	v2 = bits.RotateLeft64(v2, 32)
	return v0, v1, v2, v3
}
