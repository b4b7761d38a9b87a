package dnsserver

import "sync/atomic"

// Stats counts queries by outcome, in gdnsd's terms. Each UDP socket has
// its own Stats so counting never bounces a cache line between cores; the
// Server sums them on read.
type Stats struct {
	NoError, NXDomain, Refused, NotImp, FormErr, BadVers, ServFail atomic.Uint64
	EDNS, ECS, Truncated, Dropped, Dyn                             atomic.Uint64
	UDP, TCP                                                       atomic.Uint64
	_                                                              [64]byte // keep neighbours off this cache line
}

// StatsSnapshot is a plain copy of Stats for reporting.
type StatsSnapshot struct {
	NoError   uint64 `json:"noerror"`
	NXDomain  uint64 `json:"nxdomain"`
	Refused   uint64 `json:"refused"`
	NotImp    uint64 `json:"notimp"`
	FormErr   uint64 `json:"formerr"`
	BadVers   uint64 `json:"badvers"`
	ServFail  uint64 `json:"servfail"`
	EDNS      uint64 `json:"edns"`
	ECS       uint64 `json:"edns_clientsub"`
	Truncated uint64 `json:"udp_tc"`
	Dropped   uint64 `json:"dropped"`
	Dyn       uint64 `json:"dynamic"`
	UDP       uint64 `json:"udp_reqs"`
	TCP       uint64 `json:"tcp_reqs"`
}

func (s *Stats) addTo(t *StatsSnapshot) {
	t.NoError += s.NoError.Load()
	t.NXDomain += s.NXDomain.Load()
	t.Refused += s.Refused.Load()
	t.NotImp += s.NotImp.Load()
	t.FormErr += s.FormErr.Load()
	t.BadVers += s.BadVers.Load()
	t.ServFail += s.ServFail.Load()
	t.EDNS += s.EDNS.Load()
	t.ECS += s.ECS.Load()
	t.Truncated += s.Truncated.Load()
	t.Dropped += s.Dropped.Load()
	t.Dyn += s.Dyn.Load()
	t.UDP += s.UDP.Load()
	t.TCP += s.TCP.Load()
}

func (s *Stats) countRcode(rcode int) {
	switch rcode {
	case 0:
		s.NoError.Add(1)
	case 1:
		s.FormErr.Add(1)
	case 2:
		s.ServFail.Add(1)
	case 3:
		s.NXDomain.Add(1)
	case 4:
		s.NotImp.Add(1)
	case 5:
		s.Refused.Add(1)
	case 16:
		s.BadVers.Add(1)
	}
}
