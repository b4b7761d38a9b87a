package dnsserver

import "sync/atomic"

// Counter dimensions. The answer path indexes fixed arrays of atomics with
// these, so counting a query costs one atomic add and never a map or label
// lookup; a Prometheus collector turns the arrays into labelled series at
// scrape time.
const (
	NumProtos     = 2  // 0 udp, 1 tcp
	NumQtypes     = 19 // QtypeNames
	NumRcodes     = 8  // RcodeNames
	NumDynReasons = 8  // reason codes chosen by the DynBackend
	MaxDCSlots    = 64 // DC slots; the backend maps its DCs onto these, the last is "other"
)

// ProtoNames, QtypeNames and RcodeNames label the counter indexes.
var (
	ProtoNames = [NumProtos]string{"udp", "tcp"}
	QtypeNames = [NumQtypes]string{"A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV", "NAPTR",
		"DS", "SSHFP", "DNSKEY", "TLSA", "SVCB", "HTTPS", "ANY", "CAA", "other"}
	RcodeNames = [NumRcodes]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", "other"}
)

// qtypeIndex maps qtypes below 256 to a QtypeNames index (0 = not listed,
// stored +1 so the zero value means "other").
var qtypeIndex = func() (t [256]uint8) {
	for i, q := range []uint16{1, 2, 5, 6, 12, 15, 16, 28, 33, 35, 43, 44, 48, 52, 64, 65, 255} {
		t[q] = uint8(i) + 1
	}
	return t
}()

func qtypeSlot(q uint16) int {
	if q < 256 {
		if i := qtypeIndex[q]; i != 0 {
			return int(i) - 1
		}
		return NumQtypes - 1
	}
	if q == 257 { // CAA
		return 17
	}
	return NumQtypes - 1
}

func rcodeSlot(rc int) int {
	switch {
	case rc >= 0 && rc <= 5:
		return rc
	case rc == 16:
		return 6
	}
	return 7
}

// Stats counts queries by outcome, in gdnsd's terms. Each UDP socket has
// its own Stats so counting never bounces a cache line between cores; the
// Server sums them on read.
type Stats struct {
	EDNS, ECS, Truncated, Dropped, Dyn atomic.Uint64
	CacheHits                          atomic.Uint64 // answers replayed from a reader's answer cache
	UDP, TCP                           atomic.Uint64
	TCPAccepted                        atomic.Uint64
	TCPRefused                         [NumTCPRefusals]atomic.Uint64 // by reason
	TCPClosedIdle                      atomic.Uint64                 // idle, closed under pressure
	// Queries with a COOKIE option, by what it carried.
	CookieClientOnly, CookieValid, CookieInvalid atomic.Uint64

	// Queries by [protocol][qtype][rcode], flattened. The per-rcode
	// totals of StatsSnapshot are derived from it, so a query costs one add.
	Queries [NumProtos * NumQtypes * NumRcodes]atomic.Uint64
	// DynAnswers by [reason][DC slot], flattened: one per dynamic resolution.
	DynAnswers [NumDynReasons * MaxDCSlots]atomic.Uint64
	// Panics by protocol: queries dropped because answering them
	// panicked. Last, so the hot counters keep their places.
	Panics [NumProtos]atomic.Uint64
	_      [64]byte // keep neighbours off this cache line
}

// StatsSnapshot is a plain copy of Stats for reporting.
type StatsSnapshot struct {
	NoError     uint64 `json:"noerror"`
	NXDomain    uint64 `json:"nxdomain"`
	Refused     uint64 `json:"refused"`
	NotImp      uint64 `json:"notimp"`
	FormErr     uint64 `json:"formerr"`
	BadVers     uint64 `json:"badvers"`
	ServFail    uint64 `json:"servfail"`
	EDNS        uint64 `json:"edns"`
	ECS         uint64 `json:"edns_clientsub"`
	Truncated   uint64 `json:"udp_tc"`
	Dropped     uint64 `json:"dropped"`
	Dyn         uint64 `json:"dynamic"`
	CacheHits   uint64 `json:"cache_hits"`
	UDP         uint64 `json:"udp_reqs"`
	TCP         uint64 `json:"tcp_reqs"`
	TCPAccepted uint64 `json:"tcp_conns_accepted"`
	TCPRejected uint64 `json:"tcp_conns_rejected"` // over max_tcp_clients, no connection idle
	// TCPRejectedPerIP counts connections refused over
	// max_tcp_clients_per_ip; TCPClosedIdle, idle ones closed to make
	// room under pressure.
	TCPRejectedPerIP uint64 `json:"tcp_conns_rejected_per_ip"`
	TCPClosedIdle    uint64 `json:"tcp_conns_closed_idle"`
	// Queries with a COOKIE option: a client cookie alone, a valid
	// server cookie, or a server cookie not ours or expired.
	CookieClientOnly uint64 `json:"cookie_client_only"`
	CookieValid      uint64 `json:"cookie_valid"`
	CookieInvalid    uint64 `json:"cookie_invalid"`
	// Panics by protocol: queries dropped because answering them panicked.
	Panics [NumProtos]uint64 `json:"-"`

	Queries    [NumProtos * NumQtypes * NumRcodes]uint64 `json:"-"`
	DynAnswers [NumDynReasons * MaxDCSlots]uint64        `json:"-"`
}

// QueryCount is Queries[proto][qtype][rcode].
func (t *StatsSnapshot) QueryCount(proto, qtype, rcode int) uint64 {
	return t.Queries[(proto*NumQtypes+qtype)*NumRcodes+rcode]
}

// DynCount is DynAnswers[reason][slot].
func (t *StatsSnapshot) DynCount(reason, slot int) uint64 {
	return t.DynAnswers[reason*MaxDCSlots+slot]
}

func (s *Stats) addTo(t *StatsSnapshot) {
	t.EDNS += s.EDNS.Load()
	t.ECS += s.ECS.Load()
	t.Truncated += s.Truncated.Load()
	t.Dropped += s.Dropped.Load()
	t.Dyn += s.Dyn.Load()
	t.CacheHits += s.CacheHits.Load()
	t.UDP += s.UDP.Load()
	t.TCP += s.TCP.Load()
	t.TCPAccepted += s.TCPAccepted.Load()
	t.TCPRejected += s.TCPRefused[RefusedMaxTCPClients].Load()
	t.TCPRejectedPerIP += s.TCPRefused[RefusedMaxTCPClientsPerIP].Load()
	t.TCPClosedIdle += s.TCPClosedIdle.Load()
	t.CookieClientOnly += s.CookieClientOnly.Load()
	t.CookieValid += s.CookieValid.Load()
	t.CookieInvalid += s.CookieInvalid.Load()
	for p := range s.Panics {
		t.Panics[p] += s.Panics[p].Load()
	}
	byRcode := [NumRcodes]*uint64{&t.NoError, &t.FormErr, &t.ServFail, &t.NXDomain, &t.NotImp, &t.Refused, &t.BadVers, nil}
	for i := range s.Queries {
		n := s.Queries[i].Load()
		t.Queries[i] += n
		if p := byRcode[i%NumRcodes]; p != nil {
			*p += n
		}
	}
	for i := range s.DynAnswers {
		t.DynAnswers[i] += s.DynAnswers[i].Load()
	}
}

// count records one answered query in the protocol × qtype × rcode array.
func (s *Stats) count(proto int, qtype uint16, rcode int) {
	s.Queries[(proto*NumQtypes+qtypeSlot(qtype))*NumRcodes+rcodeSlot(rcode)].Add(1)
}

func (s *Stats) countDyn(info *DynInfo) { s.countDynAt(info.ReasonCode, info.DCSlot) }

// countDynAt counts one dynamic resolution by reason code and DC slot.
func (s *Stats) countDynAt(reason, slot uint8) {
	r, d := int(reason), int(slot)
	if r >= NumDynReasons {
		r = 0
	}
	if d >= MaxDCSlots {
		d = MaxDCSlots - 1
	}
	s.DynAnswers[r*MaxDCSlots+d].Add(1)
}
