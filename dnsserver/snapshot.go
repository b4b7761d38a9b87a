package dnsserver

import (
	"net/netip"
	"time"

	"github.com/geotraffic/geotraffic/dnsserver/rrl"
	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

// Snapshot is everything the answer path reads. It is immutable: a reload
// builds a new one and swaps the pointer.
type Snapshot struct {
	Zones          *zones.Set
	Dyn            DynBackend // nil when no dynamic records are configured
	NSID           []byte     // RFC 5001 payload; nil = off
	Chaos          string     // TXT for CH-class queries; "" = REFUSED
	MaxUDPSize     uint16     // default DefaultMaxUDPSize
	TCPIdleTimeout time.Duration
	RRL            *rrl.Limiter // response rate limiting of UDP answers; nil = off
	Cookies        *Cookies     // server cookie secrets; nil = cookies off
	DNSSEC         DNSSEC       // online signing; nil = no zone is signed

	chaosRData []byte
}

// Prepare fills derived fields; call once before publishing.
func (s *Snapshot) Prepare() *Snapshot {
	if s.MaxUDPSize == 0 {
		s.MaxUDPSize = DefaultMaxUDPSize
	}
	if s.MaxUDPSize < 512 {
		s.MaxUDPSize = 512
	}
	if s.Chaos != "" {
		rr := &dns.TXT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS}, Txt: splitTXT(s.Chaos)}
		buf := make([]byte, 1024)
		off, err := dns.PackRR(rr, buf, 0, nil, false)
		if err == nil {
			s.chaosRData = append([]byte(nil), buf[1+10:off]...)
		}
	}
	return s
}

func splitTXT(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}

// Client is who a dynamic answer is for.
type Client struct {
	Src     netip.Addr // the packet's source address
	ECS     netip.Addr // EDNS Client Subnet address, when HasECS
	ECSBits uint8
	HasECS  bool // an ECS option with a non-zero source prefix
}

// DynInfo describes a dynamic answer, for the ECS scope, metrics and logs.
type DynInfo struct {
	Scope   uint8
	DC      string
	Reason  string
	AllDown bool
	// ReasonCode (< NumDynReasons) and DCSlot (< MaxDCSlots) index the
	// per-socket DYNA counters; the backend chooses both without a map
	// lookup, and names them for the metrics collector.
	ReasonCode uint8
	DCSlot     uint8
	// Net and UsedECS let a UDP reader replay this answer to other
	// clients: every client whose ECS address (UsedECS) or source address
	// is in Net gets the same answer from this snapshot. SameForAll says
	// the answer does not depend on the client at all (a pinned DC). With
	// neither, the answer is never cached.
	Net        netip.Prefix
	UsedECS    bool
	SameForAll bool
	// NoCache says the answer was chosen for this query alone (a random
	// choice, or the client's own address): it is never replayed.
	NoCache bool
	// Scratch is per-worker storage, DynScratchAddrs long, the backend
	// may answer addresses chosen per query from; it stays valid until
	// the reply is written.
	Scratch []netip.Addr
}

// DynScratchAddrs is DynInfo.Scratch's length: 64 addresses per family
// (gdnsd's weighted plugin answers at most that many).
const DynScratchAddrs = 128

// DynBackend answers DYNA/DYNC records (the geo package through authdns).
// Resolve must not allocate.
type DynBackend interface {
	Resolve(d *zones.Dyn, c *Client, out *zones.DynAnswer, info *DynInfo)
}
