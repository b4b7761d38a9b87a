package gdnsddiffe2e

import (
	"strings"

	"github.com/miekg/dns"
)

// normalise removes from a reply to q what may differ between gdnsd and
// authdns by design. Every intentional difference lives here and only
// here, with its reason; docs/gdnsd-diff.md and the migration guide list
// the same. It is applied to both replies alike, so a gdnsd compared with
// itself is unaffected, and it changes m in place.
func normalise(q query, m *dns.Msg) {
	// CD: RFC 4035 (section 3) says to copy it from the query; authdns
	// does, gdnsd (no DNSSEC) clears it. Neither answer depends on it.
	m.CheckingDisabled = q.CD
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			lowerDataNames(rr)
		}
	}
	if q.Qtype == dns.TypeDS && len(m.Answer) == 0 && m.Rcode == dns.RcodeSuccess {
		// DS at a delegation: gdnsd (no DNSSEC) refers to the child as
		// for any type; authdns answers from the parent's side of the
		// cut, authoritatively (RFC 4035 section 3.1.4.1), here NODATA.
		// Both say "no DS": only the rcode of such replies is compared.
		m.Authoritative, m.Ns = false, nil
		m.Extra = dropAllButOPT(m.Extra)
	}
	opt := m.IsEdns0()
	if opt == nil {
		return
	}
	// The OPT payload size is the largest query the server takes: gdnsd
	// advertises its fixed 1024-byte receive buffer, authdns its
	// max_udp_size. It limits queries only, never the reply sent.
	opt.SetUDPSize(0)
	kept := opt.Option[:0]
	for _, o := range opt.Option {
		switch c := o.(type) {
		case *dns.EDNS0_COOKIE:
			// The server cookie is a per-server secret in each server's
			// own format (gdnsd: 8 bytes; authdns: RFC 9018's 16). Only
			// the client cookie echoed back, and whether a server cookie
			// came with it, must agree.
			o = &dns.EDNS0_COOKIE{Code: c.Code, Cookie: normaliseCookie(c.Cookie)}
		case *dns.EDNS0_TCP_KEEPALIVE:
			// RFC 7828 section 3.3.2 lets a server send its TCP idle
			// timeout whether or not the query asked: gdnsd always does,
			// authdns when asked. Only an answer to a query that asked is
			// compared.
			if !q.Keepalive {
				continue
			}
		}
		kept = append(kept, o)
	}
	opt.Option = kept
}

func dropAllButOPT(rrs []dns.RR) []dns.RR {
	kept := rrs[:0]
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			kept = append(kept, rr)
		}
	}
	return kept
}

func normaliseCookie(hexCookie string) string {
	if len(hexCookie) > 16 {
		return hexCookie[:16] + "+server-cookie"
	}
	return hexCookie
}

// lowerDataNames lower-cases the domain names inside a record's data.
// gdnsd compresses them against the question, so they take the
// question's case (a resolver's random 0x20 case shows in SOA, NS, MX and
// CNAME data); authdns writes them as the zone has them. Names compare
// without case (RFC 4343). Owner names are not touched: both servers
// repeat the question's case there, and that is compared.
func lowerDataNames(rr dns.RR) {
	l := strings.ToLower
	switch v := rr.(type) {
	case *dns.NS:
		v.Ns = l(v.Ns)
	case *dns.CNAME:
		v.Target = l(v.Target)
	case *dns.DNAME:
		v.Target = l(v.Target)
	case *dns.MX:
		v.Mx = l(v.Mx)
	case *dns.SOA:
		v.Ns, v.Mbox = l(v.Ns), l(v.Mbox)
	case *dns.SRV:
		v.Target = l(v.Target)
	case *dns.PTR:
		v.Ptr = l(v.Ptr)
	case *dns.NAPTR:
		v.Replacement = l(v.Replacement)
	}
}
