package dnsserver

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// worker holds everything one answering goroutine reuses between queries.
type worker struct {
	req   request
	res   zones.Result
	w     writer
	dyn   dynCtx
	sign  signScratch
	stats *Stats
	cache *answerCache // nil: no caching (TCP workers)
	pkt   []byte       // the query being answered
	proto int          // 0 udp, 1 tcp, for the counters
	isErr bool         // the reply is an error (errorReply), for rate limiting
	// nx: the name does not exist, even where a compact answer says
	// NOERROR, so rate limiting charges the zone's NXDOMAIN account.
	nx bool
	// now is the time a UDP reader read for its batch of queries (rate
	// limiting counts seconds, signing dates signatures); zero: read the
	// clock per query.
	now time.Time
	// dynScratch is where a DynBackend may put addresses chosen per
	// query (DynInfo.Scratch).
	dynScratch [DynScratchAddrs]netip.Addr
}

func newWorker(stats *Stats) *worker {
	wk := &worker{stats: stats}
	wk.res.Answer = make([]zones.Item, 0, 16)
	wk.res.Authority = make([]zones.Item, 0, 8)
	wk.res.Additional = make([]zones.Item, 0, 16)
	return wk
}

// dynCtx adapts the snapshot's DynBackend to zones.DynResolver for one
// query, and remembers the widest ECS scope any answer used and, for the
// answer cache, which clients would get the same answers.
type dynCtx struct {
	backend DynBackend
	stats   *Stats
	client  Client
	info    DynInfo
	scope   uint8
	used    bool
	valid   dynValidity
	scratch []netip.Addr // the worker's, lent to the backend as DynInfo.Scratch
}

// dynValidity is what a cached dynamic reply needs to be replayed: the
// source and ECS networks it holds for, and the DYNA counters to bump.
type dynValidity struct {
	cacheable      bool
	srcNet, ecsNet netip.Prefix // zero: no condition on that address
	counts         [maxDynCounts]dynCount
	n              uint8
}

const maxDynCounts = 4 // resolutions per reply; more and it is not cached

type dynCount struct{ reason, slot uint8 }

// add narrows v to the clients that get info's answer too.
func (v *dynValidity) add(info *DynInfo) {
	if int(v.n) == maxDynCounts {
		v.cacheable = false
	} else {
		v.counts[v.n] = dynCount{info.ReasonCode, info.DCSlot}
		v.n++
	}
	switch {
	case info.NoCache:
		v.cacheable = false
	case info.SameForAll:
	case !info.Net.IsValid():
		v.cacheable = false
	case info.UsedECS:
		v.ecsNet = narrower(v.ecsNet, info.Net)
	default:
		v.srcNet = narrower(v.srcNet, info.Net)
	}
}

// narrower of two networks that hold the same address is the longer one.
func narrower(a, b netip.Prefix) netip.Prefix {
	if !a.IsValid() || b.Bits() > a.Bits() {
		return b
	}
	return a
}

// holds reports whether client c gets the replies v was recorded for.
func (v *dynValidity) holds(c *Client) bool {
	if v.srcNet.IsValid() && !v.srcNet.Contains(c.Src) {
		return false
	}
	return !v.ecsNet.IsValid() || (c.HasECS && v.ecsNet.Contains(c.ECS))
}

func (d *dynCtx) ResolveDyn(dyn *zones.Dyn, out *zones.DynAnswer) {
	if d.backend == nil {
		return
	}
	d.info = DynInfo{Scratch: d.scratch}
	d.backend.Resolve(dyn, &d.client, out, &d.info)
	d.used = true
	d.valid.add(&d.info)
	d.stats.countDyn(&d.info)
	if d.info.Scope > d.scope {
		d.scope = d.info.Scope
	}
}

// reply builds the response to packet p from src into out (whose capacity
// must be at least 65535 + 2) and returns it, or nil to send nothing.
func (wk *worker) reply(snap *Snapshot, p []byte, src netip.Addr, tcp bool, out []byte) []byte {
	st := wk.stats
	r := &wk.req
	wk.pkt = p
	wk.proto = 0
	if tcp {
		wk.proto = 1
	}
	outcome := r.parse(p)
	if outcome == parseDrop {
		st.Dropped.Add(1)
		return nil
	}
	if r.edns {
		st.EDNS.Add(1)
	}
	if r.ecs.present {
		st.ECS.Add(1)
	}
	limit := 512
	switch {
	case tcp:
		limit = 65535
	case r.edns:
		limit = max(512, int(min(r.udpSize, snap.MaxUDPSize)))
	}
	w := &wk.w
	w.start(out, limit)
	flags := uint16(flagQR) | r.flags&(opcodeMask|flagRD|flagCD)
	rcode := dns.RcodeSuccess
	switch outcome {
	case parseFormErr:
		rcode = dns.RcodeFormatError
	case parseNotImp:
		rcode = dns.RcodeNotImplemented
	case parseBadVers:
		rcode = dns.RcodeBadVers
	case parseNoQuestion:
		if !r.cookie.present || snap.Cookies == nil {
			rcode = dns.RcodeFormatError
		}
	default:
		switch {
		case r.qtype == dns.TypeNXNAME && snap.DNSSEC != nil:
			rcode = dns.RcodeFormatError // RFC 9824 §3.5, for servers giving compact answers
			r.optSound = true
		case r.qtype == dns.TypeAXFR || r.qtype == dns.TypeIXFR || (r.qtype >= 128 && r.qtype <= 254):
			rcode = dns.RcodeNotImplemented
		}
	}
	if r.cookie.present && snap.Cookies != nil {
		wk.checkCookie(snap.Cookies, src)
	}
	if rcode != dns.RcodeSuccess {
		return wk.errorReply(snap, flags, rcode, tcp)
	}
	if r.cookie.status == cookieInvalid && !tcp {
		// RFC 7873 §5.2.3 choice (2), as BIND: the client does cookies,
		// so it retries at once with the new one this reply carries.
		return wk.errorReply(snap, flags, dns.RcodeBadCookie, tcp)
	}
	if outcome == parseNoQuestion {
		// Cookie priming (RFC 7873 §5.4): no question, only the cookie.
		return wk.errorReply(snap, flags, dns.RcodeSuccess, tcp)
	}
	switch r.qclass {
	case dns.ClassINET, dns.ClassANY: // QCLASS * matches IN, the only class served (RFC 1035 §3.2.5), as gdnsd
	case dns.ClassCHAOS:
		if snap.chaosRData != nil {
			return wk.chaosReply(snap, flags, tcp)
		}
		return wk.errorReply(snap, flags, dns.RcodeRefused, tcp)
	default:
		return wk.errorReply(snap, flags, dns.RcodeRefused, tcp)
	}

	reserve := wk.optLen(snap, tcp)
	wk.dyn = dynCtx{backend: snap.Dyn, stats: st, client: Client{Src: src.Unmap()}, valid: dynValidity{cacheable: true},
		scratch: wk.dynScratch[:]}
	if r.ecs.present && r.ecs.srcBits > 0 {
		wk.dyn.client.ECS, wk.dyn.client.ECSBits, wk.dyn.client.HasECS = r.ecs.addr, r.ecs.srcBits, true
	}
	if wk.cache != nil {
		if hit := wk.cache.lookup(snap, r, &wk.dyn.client, limit, reserve); hit != nil {
			st.CacheHits.Add(1)
			st.count(wk.proto, r.qtype, countedRcode(int(hit.rcode), hit.nx))
			if hit.truncated {
				st.Truncated.Add(1)
			}
			hit.replay(w, r, p[12:r.qend], &wk.dyn, st)
			wk.nx = hit.nx
			wk.writeOPT(snap, tcp, 0)
			return w.buf
		}
	}
	res := &wk.res
	zs := wk.lookup(snap)
	if wk.dyn.used {
		st.Dyn.Add(1)
	}
	if res.AA {
		flags |= flagAA
	}
	rcode = res.Rcode
	wk.nx = rcode == dns.RcodeNameError
	if zs != nil && rcode == dns.RcodeNameError && (!r.co || r.qtype == dns.TypeNSEC) {
		rcode = dns.RcodeSuccess // RFC 9824: a compact answer is NODATA-shaped
	}

	w.header(r.id, flags, rcode)
	w.question(p[12:r.qend], r.qlen)
	afterQ := w.len()
	fit := true
	if zs != nil {
		var signed bool
		if fit, signed = wk.signedSections(zs); !signed {
			w.truncate(0)
			return wk.errorReply(snap, flags&^flagAA, dns.RcodeServerFailure, tcp)
		}
	} else {
		fit = w.section(res.Answer, 6) && w.section(res.Authority, 8)
	}
	st.count(wk.proto, r.qtype, countedRcode(rcode, wk.nx))
	truncated := false
	if !fit || w.len()+reserve > limit {
		// All or nothing for required data, as gdnsd: TC and no records.
		w.truncate(afterQ)
		binary.BigEndian.PutUint16(w.buf[6:], 0)
		binary.BigEndian.PutUint16(w.buf[8:], 0)
		binary.BigEndian.PutUint16(w.buf[2:], binary.BigEndian.Uint16(w.buf[2:])|flagTC)
		st.Truncated.Add(1)
		truncated = true
	} else {
		w.additional(res.Additional, 10, reserve)
	}
	if wk.cache != nil {
		wk.cache.store(w.buf, rcode, wk.nx, truncated, &wk.dyn)
	}
	wk.writeOPT(snap, tcp, 0)
	return w.buf
}

func (wk *worker) errorReply(snap *Snapshot, flags uint16, rcode int, tcp bool) []byte {
	r, w := &wk.req, &wk.w
	wk.isErr = true
	wk.stats.count(wk.proto, r.qtype, rcode)
	w.header(r.id, flags, rcode&0xF)
	if r.qend > 0 {
		w.question(wk.packet()[12:r.qend], r.qlen)
	}
	// A FORMERR over a malformed OPT record carries none; one over a
	// sound OPT (a malformed ECS or cookie option, qtype NXNAME) does, as RFC 6891
	// §6.1.1 asks of every reply to an EDNS query.
	if r.edns && (rcode != dns.RcodeFormatError || r.optSound) {
		wk.writeOPT(snap, tcp, uint8(rcode>>4))
	}
	return w.buf
}

func (wk *worker) chaosReply(snap *Snapshot, flags uint16, tcp bool) []byte {
	r, w := &wk.req, &wk.w
	wk.stats.count(wk.proto, r.qtype, dns.RcodeSuccess)
	w.header(r.id, flags, dns.RcodeSuccess)
	w.question(wk.packet()[12:r.qend], r.qlen)
	w.rr(r.qname, dns.TypeTXT, dns.ClassCHAOS, 0, snap.chaosRData)
	binary.BigEndian.PutUint16(w.buf[6:], 1)
	wk.writeOPT(snap, tcp, 0)
	return w.buf
}

// checkCookie classifies the query's cookie, counts it, and records a
// valid one for rate limiting.
func (wk *worker) checkCookie(c *Cookies, src netip.Addr) {
	r := &wk.req
	c.check(&r.cookie, src)
	switch r.cookie.status {
	case cookieClientOnly:
		wk.stats.CookieClientOnly.Add(1)
	case cookieValid:
		wk.stats.CookieValid.Add(1)
		r.serverCookieOK = true
	case cookieInvalid:
		wk.stats.CookieInvalid.Add(1)
	}
}

// packet returns the query being answered.
func (wk *worker) packet() []byte { return wk.pkt }

// optLen is the size of the OPT record this reply will carry.
func (wk *worker) optLen(snap *Snapshot, tcp bool) int {
	r := &wk.req
	if !r.edns {
		return 0
	}
	n := 11
	if r.nsid && snap.NSID != nil {
		n += 4 + len(snap.NSID)
	}
	if r.ecs.present {
		n += 4 + 4 + int(r.ecs.srcBits+7)/8
	}
	if tcp && r.keepaliv {
		n += 6
	}
	if r.cookie.status != cookieNone {
		n += 4 + cookieOptLen
	}
	return n
}

func (wk *worker) writeOPT(snap *Snapshot, tcp bool, extRcode uint8) {
	r, w := &wk.req, &wk.w
	if !r.edns {
		return
	}
	w.buf = append(w.buf, 0) // root owner
	w.u16(dns.TypeOPT)
	w.u16(snap.MaxUDPSize)
	ttl := uint32(extRcode) << 24
	if r.do {
		ttl |= 0x8000
		if r.co && snap.DNSSEC != nil {
			ttl |= 0x4000 // CO echoed: this server restores NXDOMAIN for it
		}
	}
	w.u32(ttl)
	lenOff := len(w.buf)
	w.u16(0)
	if r.nsid && snap.NSID != nil {
		w.u16(dns.EDNS0NSID)
		w.u16(uint16(len(snap.NSID)))
		w.buf = append(w.buf, snap.NSID...)
	}
	if r.ecs.present && extRcode == 0 {
		n := int(r.ecs.srcBits+7) / 8
		scope := uint8(0)
		if r.ecs.srcBits > 0 && wk.dyn.used {
			scope = wk.dyn.scope
		}
		w.u16(dns.EDNS0SUBNET)
		w.u16(uint16(4 + n))
		w.u16(r.ecs.family)
		w.buf = append(w.buf, r.ecs.srcBits, scope)
		w.buf = append(w.buf, r.ecs.raw[:n]...)
	}
	if tcp && r.keepaliv {
		w.u16(dns.EDNS0TCPKEEPALIVE)
		w.u16(2)
		w.u16(uint16(min(snap.TCPIdleTimeout.Milliseconds()/100, 0xFFFF)))
	}
	if c := &r.cookie; c.status != cookieNone {
		// Every reply with an OPT, TC=1 and errors included, passes
		// here: this is the one place the cookie is written.
		w.u16(dns.EDNS0COOKIE)
		w.u16(cookieOptLen)
		w.buf = append(w.buf, c.client[:]...)
		w.buf = append(w.buf, c.out[:]...)
	}
	binary.BigEndian.PutUint16(w.buf[lenOff:], uint16(len(w.buf)-lenOff-2))
	ar := binary.BigEndian.Uint16(w.buf[10:])
	binary.BigEndian.PutUint16(w.buf[10:], ar+1)
}

// countedRcode is the rcode the statistics count: a compact denial (RFC
// 9824) goes out as NOERROR but counts as the NXDOMAIN it stands for, so
// NXDOMAIN rates (a random-name flood) read the same signed or not.
func countedRcode(rcode int, nx bool) int {
	if nx {
		return dns.RcodeNameError
	}
	return rcode
}
