// Package keys is DNSSEC key material in BIND's formats: it reads and writes
// K<zone>+<alg>+<tag>.key/.private files with their timing metadata (as
// dnssec-keygen and dnssec-settime write them), generates keys, derives
// DS, CDS and CDNSKEY records, and says which keys are published and which
// sign at a given instant, so that rollovers follow the files alone.
package keys

import (
	"crypto"
	"time"

	"github.com/miekg/dns"
)

// Timing is a key's timing metadata; a zero field is unset.
type Timing struct {
	Created, Publish, Activate, Revoke, Inactive, Delete time.Time
	SyncPublish, SyncDelete                              time.Time
}

// Key is one key pair of a zone.
type Key struct {
	Zone   string // canonical: lowercase, trailing dot
	DNSKEY *dns.DNSKEY
	Signer crypto.Signer
	Timing Timing
	File   string // base path (no .key/.private), for errors and logs
}

// KSK reports whether the key has the SEP flag (a KSK, or a CSK when the
// zone has no active key without it).
func (k *Key) KSK() bool { return k.DNSKEY.Flags&dns.SEP != 0 }

// Tag is the key tag of the DNSKEY as published (REVOKE bit included).
func (k *Key) Tag() uint16 { return k.DNSKEY.KeyTag() }

// ZoneKeys is every key found for one zone.
type ZoneKeys struct {
	Zone string
	Keys []*Key
}

// State is what a zone's keys do at one instant; ZoneKeys.At has the
// rules.
type State struct {
	DNSKEY  []*dns.DNSKEY // published: Publish <= t < Delete (REVOKE set past Revoke)
	KSK     []*Key        // active (Activate <= t < Inactive) SEP keys and revoked keys: sign DNSKEY, CDS, CDNSKEY
	ZSK     []*Key        // active keys signing everything else: the non-SEP ones, or the KSKs when there are none (CSK)
	CDS     []*dns.CDS    // for SEP keys between SyncPublish and SyncDelete
	CDNSKEY []*dns.CDNSKEY
	Next    time.Time // the first timing event after t; zero: none
}

// Signing reports whether the state signs anything.
func (s *State) Signing() bool { return len(s.ZSK) > 0 }
