package dnsserver

import (
	"encoding/binary"
	"net/netip"

	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// parseOutcome says what to do with a packet.
type parseOutcome uint8

const (
	parseOK         parseOutcome = iota
	parseDrop                    // no usable header, or a response (QR set)
	parseFormErr                 // header parsed; FORMERR
	parseNotImp                  // opcode other than QUERY
	parseBadVers                 // EDNS version > 0
	parseNoQuestion              // QDCOUNT 0: FORMERR unless it asks for a cookie
)

// request is a parsed query. Fields point into the packet buffer; nothing
// is allocated.
type request struct {
	id       uint16
	flags    uint16 // as received
	qdcount  uint16
	qname    []byte // wire, as sent (case kept)
	qlower   [256]byte
	qlen     int
	qtype    uint16
	qclass   uint16
	qend     int // offset just past the question; 0 when there is none
	edns     bool
	udpSize  uint16
	do       bool
	co       bool // RFC 9824's Compact denial OK: NXDOMAIN may be restored
	nsid     bool
	keepaliv bool
	ecs      ecsOption
	// optSound: the query is a FORMERR though its OPT record is sound
	// (a malformed ECS or cookie option, or qtype NXNAME), so the reply
	// still carries an OPT.
	optSound bool
	// serverCookieOK: the query carried a server cookie this server
	// made and still accepts (RFC 7873); such a client proved its
	// address, so response rate limiting lets it through.
	serverCookieOK bool
	cookie         cookieOption
}

// lower is the lowercased wire qname.
func (r *request) lower() []byte { return r.qlower[:r.qlen] }

type ecsOption struct {
	present bool
	family  uint16
	srcBits uint8
	addr    netip.Addr
	raw     [16]byte // address bytes as sent (ceil(srcBits/8) used)
}

const (
	flagQR     = 1 << 15
	opcodeMask = 0xF << 11
	flagAA     = 1 << 10
	flagTC     = 1 << 9
	flagRD     = 1 << 8
	flagRA     = 1 << 7
	flagAD     = 1 << 5
	flagCD     = 1 << 4
)

func (r *request) reset() {
	*r = request{}
}

// parse reads a query. On FORMERR/NOTIMP/BADVERS the fields parsed so far
// (id, flags, question when it parsed) let the caller build the reply.
func (r *request) parse(p []byte) parseOutcome {
	r.reset()
	if len(p) < 12 {
		return parseDrop
	}
	r.id = binary.BigEndian.Uint16(p[0:])
	r.flags = binary.BigEndian.Uint16(p[2:])
	if r.flags&flagQR != 0 {
		return parseDrop
	}
	r.qdcount = binary.BigEndian.Uint16(p[4:])
	an := binary.BigEndian.Uint16(p[6:])
	ns := binary.BigEndian.Uint16(p[8:])
	ar := binary.BigEndian.Uint16(p[10:])
	off := 12
	if r.qdcount == 1 {
		end, ok := r.parseQuestion(p, off)
		if !ok {
			return parseFormErr
		}
		off = end
		r.qend = end
	}
	if (r.flags&opcodeMask)>>11 != dns.OpcodeQuery {
		return parseNotImp
	}
	if r.qdcount > 1 {
		return parseFormErr
	}
	for i := 0; i < int(an)+int(ns); i++ {
		var ok bool
		if off, ok = skipRR(p, off); !ok {
			return parseFormErr
		}
	}
	for i := 0; i < int(ar); i++ {
		start := off
		nameEnd, ok := skipName(p, off)
		if !ok || nameEnd+10 > len(p) {
			return parseFormErr
		}
		typ := binary.BigEndian.Uint16(p[nameEnd:])
		rdlen := int(binary.BigEndian.Uint16(p[nameEnd+8:]))
		end := nameEnd + 10 + rdlen
		if end > len(p) {
			return parseFormErr
		}
		if typ == dns.TypeOPT {
			if r.edns || nameEnd != start+1 || p[start] != 0 {
				return parseFormErr // RFC 6891: one OPT, owned by the root
			}
			if out := r.parseOPT(p[nameEnd:end]); out != parseOK {
				return out
			}
		}
		off = end
	}
	if r.qdcount == 0 {
		return parseNoQuestion
	}
	return parseOK
}

func (r *request) parseQuestion(p []byte, off int) (int, bool) {
	start := off
	for {
		if off >= len(p) {
			return 0, false
		}
		l := int(p[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 { // compression in the question is never needed; refuse it
			return 0, false
		}
		off += l + 1
		if off-start > 255 {
			return 0, false
		}
	}
	if off+4 > len(p) || off-start > 255 {
		return 0, false
	}
	r.qname = p[start:off]
	r.qlen = off - start
	zones.LowerInto(r.qlower[:r.qlen], r.qname)
	r.qtype = binary.BigEndian.Uint16(p[off:])
	r.qclass = binary.BigEndian.Uint16(p[off+2:])
	return off + 4, true
}

// parseOPT reads an OPT RR starting at its TYPE field.
func (r *request) parseOPT(b []byte) parseOutcome {
	r.edns = true
	r.udpSize = binary.BigEndian.Uint16(b[2:])
	ttl := binary.BigEndian.Uint32(b[4:])
	version := uint8(ttl >> 16)
	r.do = ttl&0x8000 != 0
	r.co = ttl&0x4000 != 0
	if version != 0 {
		return parseBadVers
	}
	opts := b[10:]
	for len(opts) > 0 {
		if len(opts) < 4 {
			return parseFormErr
		}
		code := binary.BigEndian.Uint16(opts)
		olen := int(binary.BigEndian.Uint16(opts[2:]))
		if 4+olen > len(opts) {
			return parseFormErr
		}
		data := opts[4 : 4+olen]
		switch code {
		case dns.EDNS0NSID:
			r.nsid = true
		case dns.EDNS0SUBNET:
			if r.ecs.present || !r.ecs.parse(data) {
				r.optSound = true
				return parseFormErr
			}
		case dns.EDNS0TCPKEEPALIVE:
			r.keepaliv = true
		case dns.EDNS0COOKIE:
			if !r.cookie.present && !r.cookie.parse(data) {
				r.optSound = true
				return parseFormErr // only the first counts (RFC 7873 §5.2)
			}
		}
		opts = opts[4+olen:]
	}
	return parseOK
}

// parse validates an ECS option per RFC 7871 §7.1.1 as gdnsd does.
func (e *ecsOption) parse(d []byte) bool {
	if len(d) < 4 {
		return false
	}
	e.family = binary.BigEndian.Uint16(d)
	e.srcBits = d[2]
	scope := d[3]
	addr := d[4:]
	if scope != 0 {
		return false
	}
	var maxBits uint8
	switch e.family {
	case 1:
		maxBits = 32
	case 2:
		maxBits = 128
	default:
		return false
	}
	if e.srcBits > maxBits || len(addr) != int(e.srcBits+7)/8 {
		return false
	}
	if rem := e.srcBits % 8; rem != 0 && addr[len(addr)-1]&(0xFF>>rem) != 0 {
		return false // bits set past the source prefix
	}
	copy(e.raw[:], addr)
	if e.family == 1 {
		e.addr = netip.AddrFrom4([4]byte(e.raw[:4]))
	} else {
		e.addr = netip.AddrFrom16(e.raw)
	}
	e.present = true
	return true
}

func skipName(p []byte, off int) (int, bool) {
	for n := 0; n < 128; n++ {
		if off >= len(p) {
			return 0, false
		}
		l := int(p[off])
		switch {
		case l == 0:
			return off + 1, true
		case l&0xC0 == 0xC0:
			if off+2 > len(p) {
				return 0, false
			}
			return off + 2, true
		case l > 63:
			return 0, false
		}
		off += l + 1
	}
	return 0, false
}

func skipRR(p []byte, off int) (int, bool) {
	off, ok := skipName(p, off)
	if !ok || off+10 > len(p) {
		return 0, false
	}
	end := off + 10 + int(binary.BigEndian.Uint16(p[off+8:]))
	if end > len(p) {
		return 0, false
	}
	return end, true
}
