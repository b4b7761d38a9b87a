package dnsserver

import (
	"encoding/binary"

	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// writer builds a response in a caller-owned buffer. Names are compressed
// against the question and every name already written; RDATA is copied as
// pre-packed (uncompressed), which is always valid.
type writer struct {
	buf   []byte
	limit int // largest message allowed (UDP size or 65535)
	names [64]nameRef
	nn    int
	ok    bool // false once something did not fit
}

type nameRef struct {
	name []byte // wire suffix, lowercase or not: compared case-insensitively
	off  int
}

func (w *writer) start(buf []byte, limit int) {
	w.buf, w.limit, w.nn, w.ok = buf[:0], limit, 0, true
}

func (w *writer) len() int { return len(w.buf) }

// truncate rolls back to n bytes, forgetting names written after n.
func (w *writer) truncate(n int) {
	w.buf = w.buf[:n]
	for w.nn > 0 && w.names[w.nn-1].off >= n {
		w.nn--
	}
	w.ok = true
}

func (w *writer) u16(v uint16) { w.buf = binary.BigEndian.AppendUint16(w.buf, v) }
func (w *writer) u32(v uint32) { w.buf = binary.BigEndian.AppendUint32(w.buf, v) }

func (w *writer) header(id, flags uint16, rcode int) {
	w.buf = append(w.buf, make12[:]...)
	binary.BigEndian.PutUint16(w.buf[0:], id)
	binary.BigEndian.PutUint16(w.buf[2:], flags|uint16(rcode&0xF))
}

var make12 [12]byte

// question copies the question as received (so its case is echoed) and
// registers its name for compression.
func (w *writer) question(q []byte, nameLen int) {
	off := len(w.buf)
	w.buf = append(w.buf, q...)
	w.remember(q[:nameLen], off)
	binary.BigEndian.PutUint16(w.buf[4:], 1)
}

func (w *writer) remember(name []byte, off int) { w.rememberUpTo(name, off, len(name)) }

// rememberUpTo registers the suffixes of name that start before upto,
// each as written at off plus its position.
func (w *writer) rememberUpTo(name []byte, off, upto int) {
	for i := 0; i < upto && i < len(name) && name[i] != 0 && off+i < 0x3FFF; i += int(name[i]) + 1 {
		if w.nn == len(w.names) {
			return
		}
		w.names[w.nn] = nameRef{name: name[i:], off: off + i}
		w.nn++
	}
}

func equalFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// name writes a wire name, compressed against known names.
func (w *writer) name(n []byte) {
	start := len(w.buf)
	for i := 0; i < len(n); {
		if n[i] == 0 {
			w.buf = append(w.buf, 0)
			break
		}
		for j := 0; j < w.nn; j++ {
			if equalFold(w.names[j].name, n[i:]) {
				w.buf = append(w.buf, n[:i]...)
				w.u16(0xC000 | uint16(w.names[j].off))
				w.rememberUpTo(n, start, i) // only the labels before i are new
				return
			}
		}
		i += int(n[i]) + 1
	}
	if len(w.buf) == start { // n was empty (malformed); write root
		w.buf = append(w.buf, 0)
	}
	w.remember(n, start)
}

// rr writes one record header and rdata.
func (w *writer) rr(owner []byte, typ, class uint16, ttl uint32, rdata []byte) {
	w.name(owner)
	w.u16(typ)
	w.u16(class)
	w.u32(ttl)
	w.u16(uint16(len(rdata)))
	w.buf = append(w.buf, rdata...)
}

// item writes every record of one item and returns how many it wrote.
func (w *writer) item(it *zones.Item) int {
	switch {
	case it.Set != nil:
		for _, rd := range it.Set.RData {
			w.rr(it.Owner, it.Set.Type, it.Set.Class, it.Set.TTL, rd)
		}
		return len(it.Set.RData)
	case it.CNAME != nil:
		w.rr(it.Owner, dns.TypeCNAME, dns.ClassINET, it.TTL, it.CNAME)
		return 1
	default:
		for _, a := range it.Addrs {
			if it.AddrType == dns.TypeA {
				b := a.As4()
				w.rr(it.Owner, dns.TypeA, dns.ClassINET, it.TTL, b[:])
			} else {
				b := a.As16()
				w.rr(it.Owner, dns.TypeAAAA, dns.ClassINET, it.TTL, b[:])
			}
		}
		return len(it.Addrs)
	}
}

// section writes items; it reports false (and writes nothing more) when the
// limit is passed, leaving the caller to roll back.
func (w *writer) section(items []zones.Item, countOff int) bool {
	n := 0
	for i := range items {
		n += w.item(&items[i])
		if len(w.buf) > w.limit {
			return false
		}
	}
	binary.BigEndian.PutUint16(w.buf[countOff:], uint16(n))
	return true
}

// additional writes whole RRsets while they fit; what does not fit is left
// out without TC (RFC 2181 §9: additional data is optional).
func (w *writer) additional(items []zones.Item, countOff int, reserve int) {
	n := 0
	for i := range items {
		mark, nn := len(w.buf), w.nn
		c := w.item(&items[i])
		if len(w.buf)+reserve > w.limit {
			w.buf, w.nn = w.buf[:mark], nn
			break
		}
		n += c
	}
	binary.BigEndian.PutUint16(w.buf[countOff:], uint16(n))
}
