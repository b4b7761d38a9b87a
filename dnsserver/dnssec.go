package dnsserver

import (
	"time"

	"github.com/geotraffic/geotraffic/zones"
)

// DNSSEC signs the answers of signed zones (package dnssec implements it).
type DNSSEC interface {
	// Zone returns z's signer, or nil when z is served unsigned.
	Zone(z *zones.Zone) ZoneSigner
}

// ZoneSigner signs one zone's RRsets. Safe for concurrent use; it does not
// allocate when the signature is already made.
type ZoneSigner interface {
	// Sigs returns the RRSIG RDATAs (packed, signer name uncompressed)
	// covering the RRset owner/typ/ttl made of rdata (packed RDATAs, any
	// order). owner is lowercase wire; a wildcard expansion is signed at
	// the query name. nil means it cannot sign: the caller answers
	// SERVFAIL, never unsigned data.
	Sigs(owner []byte, typ uint16, ttl uint32, rdata [][]byte, now time.Time) [][]byte
	// StaticSigs is Sigs for a static set of the zone at its own owner,
	// from the signatures made when the zone was loaded when they are
	// still fresh.
	StaticSigs(set *zones.RRset, now time.Time) [][]byte
	// Apex returns the DNSKEY, CDS and CDNSKEY sets of the zone's apex
	// (nil when not published), answered and signed like static sets.
	Apex() (dnskey, cds, cdnskey *zones.RRset)
}
