// Package bgp announces lvsd's service IPs to routers with an embedded gobgp
// speaker, so that routers fail over between directors: the primary
// announces with a better MED (or shorter AS path) than the backup, and a
// stopped director withdraws everything before it closes its sessions.
package bgp

import (
	"context"
	"net/netip"
	"time"
)

// Config is the [global] bgp-* settings of pybal.conf, already parsed by
// lvs/config (which reports syntax errors with file, line and key).
type Config struct {
	Enabled     bool          // bgp
	LocalASN    uint32        // bgp-local-asn (4-byte allowed)
	Peers       []netip.Addr  // bgp-peer-address: one address or a list
	PeerPort    uint16        // bgp-peer-port (our addition, default 179; tests use others)
	ASPath      []uint32      // bgp-as-path; default [LocalASN]
	MED         uint32        // bgp-med; default 0
	NextHopV4   netip.Addr    // bgp-nexthop-ipv4; required when an IPv4 VIP is announced
	NextHopV6   netip.Addr    // bgp-nexthop-ipv6; required when an IPv6 VIP is announced
	LocalIPs    []netip.Addr  // bgp-local-ips: listener and session source addresses
	LocalPort   uint16        // bgp-local-port; default 179
	HoldTime    time.Duration // bgp-hold-time; default 30 s
	Communities []Community   // bgp-communities: list of "ASN:VALUE"
	RouterID    netip.Addr    // bgp-router-id (our addition); default the first IPv4 of LocalIPs, else NextHopV4

	// PeerASN is bgp-peer-asn (our addition). 0, the default, accepts the
	// ASN the router sends in its OPEN, as PyBal does; the session is then
	// iBGP when it equals LocalASN and eBGP otherwise. Set it to have the
	// speaker refuse a router with another ASN.
	PeerASN uint32
	// ConnectRetry is bgp-connect-retry (our addition): the pause between
	// connection attempts to a peer that is down; default 3 s (PyBal: 30 s),
	// so sessions come back quickly after a router restart.
	ConnectRetry time.Duration
}

// Community is a standard RFC 1997 community ASN:VALUE.
type Community struct {
	ASN   uint16
	Value uint16
}

// Route is one announced service IP: a /32 or /128 with its MED.
type Route struct {
	Prefix netip.Prefix `json:"prefix"`
	MED    uint32       `json:"med"`
}

// PeerStatus is one session as seen by the speaker.
type PeerStatus struct {
	Address     netip.Addr `json:"address"`
	State       string     `json:"state"` // "established", "active", "idle", ...
	Established bool       `json:"established"`
	// Additions beyond the original contract, for /bgp.
	PeerASN      uint32 `json:"peer_asn,omitempty"`      // learned from the OPEN when PeerASN is 0
	LocalAddress string `json:"local_address,omitempty"` // session source address, when established
	Advertised   uint64 `json:"advertised"`              // prefixes currently advertised to the peer
}

// Announcer is what lvsd drives. SetRoutes is declarative: the speaker
// announces what is new, withdraws what is gone, and re-announces everything
// to a peer whose session comes back.
type Announcer interface {
	Start(ctx context.Context) error
	SetRoutes(ctx context.Context, routes []Route) error
	Routes() []Route
	Peers() []PeerStatus
	// Stop withdraws every route, waits (bounded by ctx) until the
	// withdrawals are sent, then closes the sessions with a Cease.
	Stop(ctx context.Context) error
}
