package dnsserver

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/geotraffic/geotraffic/dnsserver/rrl"
)

// answer is reply under response rate limiting: a UDP reply is charged to
// its account once built (so cached and dynamic answers count as static
// ones do), then sent, slipped or dropped. TCP is never limited, nor a query
// with a valid server cookie: both proved the client's address.
func (wk *worker) answer(snap *Snapshot, p []byte, src netip.Addr, tcp bool, out []byte) []byte {
	wk.isErr, wk.nx = false, false
	b := wk.reply(snap, p, src, tcp, out)
	if snap.RRL == nil || tcp || b == nil {
		return b
	}
	return wk.rateLimit(snap, b, src)
}

// rateLimit charges UDP reply b and returns what to send instead (nil:
// nothing).
func (wk *worker) rateLimit(snap *Snapshot, b []byte, src netip.Addr) []byte {
	if wk.req.serverCookieOK {
		return b
	}
	kind, qtype, name := wk.classify(snap, b)
	now := wk.now
	if now.IsZero() {
		now = time.Now()
	}
	switch snap.RRL.AccountAt(now, kind, src, qtype, name) {
	case rrl.Slip:
		return wk.slip(snap)
	case rrl.Drop:
		return nil
	}
	return b
}

// classify says what reply b is charged as, and to which name.
func (wk *worker) classify(snap *Snapshot, b []byte) (rrl.Kind, uint16, []byte) {
	r := &wk.req
	rcode := b[3] & 0xF
	if wk.isErr || r.qend == 0 || (rcode != 0 && rcode != 3) {
		return rrl.Error, 0, nil
	}
	if rcode == 3 || wk.nx {
		if z := snap.Zones.FindZone(r.lower()); z != nil {
			return rrl.NXDomain, 0, z.Apex
		}
		return rrl.NXDomain, 0, nil
	}
	flags := binary.BigEndian.Uint16(b[2:])
	switch {
	case binary.BigEndian.Uint16(b[6:]) > 0 || flags&flagTC != 0:
		return rrl.Response, r.qtype, r.lower()
	case flags&flagAA != 0:
		return rrl.Response, 0, r.lower() // NODATA: every qtype of the name shares it
	}
	return rrl.Referral, 0, wk.delegation(b)
}

// delegation is the owner of a referral's first NS record: the writer
// compresses it to a pointer into the question whenever it is the qname or
// one of its ancestors, as a delegation point always is.
func (wk *worker) delegation(b []byte) []byte {
	r := &wk.req
	q := r.qend
	if q+2 <= len(b) && b[q]&0xC0 == 0xC0 {
		if ptr := int(binary.BigEndian.Uint16(b[q:]) & 0x3FFF); ptr >= 12 && ptr < 12+r.qlen {
			return r.lower()[ptr-12:]
		}
	}
	return r.lower()
}

// slip rewrites the reply in the writer as BIND's slipped response: the
// header (rcode and AA kept) and question, TC set, and the OPT record, so
// the client retries over TCP.
func (wk *worker) slip(snap *Snapshot) []byte {
	w := &wk.w
	w.truncate(wk.req.qend)
	binary.BigEndian.PutUint16(w.buf[6:], 0)
	binary.BigEndian.PutUint16(w.buf[8:], 0)
	binary.BigEndian.PutUint16(w.buf[10:], 0)
	binary.BigEndian.PutUint16(w.buf[2:], binary.BigEndian.Uint16(w.buf[2:])|flagTC)
	wk.writeOPT(snap, false, 0)
	return w.buf
}
