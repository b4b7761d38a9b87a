package keys

import (
	"slices"
	"time"

	"github.com/miekg/dns"
)

// At says what z's keys do at t, from their timing metadata alone, as BIND
// reads it:
//   - a key without any timing (dnssec-keygen -C, format v1.2) is
//     published and active for ever;
//   - otherwise it is published from Publish (or from Activate or Revoke
//     when earlier or when Publish is unset) until Delete, and active from
//     Activate until Inactive; an unset Activate means never active, so
//     dnssec-keygen -G and -A none make keys that do not sign;
//   - past Revoke it is published with the REVOKE flag (so under another
//     tag), signs the DNSKEY set only (RFC 5011) until Inactive, and has no
//     CDS;
//   - CDS and CDNSKEY are published for a published, unrevoked SEP key
//     from SyncPublish until SyncDelete; without SyncPublish, while the key
//     is active (and before SyncDelete), as BIND's dnssec-policy does, so
//     that the parent can follow the active KSK or CSK.
//
// Active SEP keys sign the DNSKEY, CDS and CDNSKEY sets and active non-SEP
// keys everything else; when there is no active non-SEP key the SEP keys
// sign everything (a CSK), and when there is no active SEP key the non-SEP
// keys sign the DNSKEY set too. Lists are in key order (tag, algorithm,
// key); Next is the earliest timing event after t (Created is none).
func (z *ZoneKeys) At(t time.Time) State {
	var s State
	var sep, revoked []*Key
	ks := slices.Clone(z.Keys)
	sortKeys(ks)
	for _, k := range ks {
		for _, ev := range k.Timing.events() {
			if ev.After(t) && (s.Next.IsZero() || ev.Before(s.Next)) {
				s.Next = ev
			}
		}
		st := k.stateAt(t)
		if !st.published {
			continue
		}
		pk := k
		if st.revoked && k.DNSKEY.Flags&dns.REVOKE == 0 {
			pk = k.withFlags(k.DNSKEY.Flags | dns.REVOKE)
		}
		s.DNSKEY = append(s.DNSKEY, pk.DNSKEY)
		switch {
		case pk.DNSKEY.Flags&dns.REVOKE != 0:
			if st.signs {
				revoked = append(revoked, pk)
			}
			continue
		case st.active && k.KSK():
			sep = append(sep, k)
		case st.active:
			s.ZSK = append(s.ZSK, k)
		}
		if k.KSK() && st.sync {
			s.CDS = append(s.CDS, k.DNSKEY.ToDS(dns.SHA256).ToCDS())
			s.CDNSKEY = append(s.CDNSKEY, k.DNSKEY.ToCDNSKEY())
		}
	}
	switch {
	case len(s.ZSK) == 0:
		s.ZSK = sep
		s.KSK = append(revoked, sep...)
	case len(sep) == 0:
		s.KSK = append(revoked, s.ZSK...)
	default:
		s.KSK = append(revoked, sep...)
	}
	return s
}

// keyState is what one key does at an instant.
type keyState struct {
	published, active, revoked bool
	signs                      bool // the DNSKEY set, for a revoked key
	sync                       bool // CDS and CDNSKEY
}

func (k *Key) stateAt(t time.Time) keyState {
	tm := &k.Timing
	if tm.Zero() {
		return keyState{published: true, active: true, signs: true,
			revoked: k.DNSKEY.Flags&dns.REVOKE != 0, sync: k.DNSKEY.Flags&dns.REVOKE == 0}
	}
	reached := func(v time.Time) bool { return !v.IsZero() && !t.Before(v) }
	deleted := reached(tm.Delete)
	inactive := reached(tm.Inactive)
	var s keyState
	s.revoked = reached(tm.Revoke) || k.DNSKEY.Flags&dns.REVOKE != 0
	s.published = !deleted && (reached(tm.Publish) || reached(tm.Activate) || reached(tm.Revoke))
	s.active = s.published && reached(tm.Activate) && !inactive
	s.signs = s.published && !inactive && (s.active || reached(tm.Revoke))
	if s.published && !s.revoked && !reached(tm.SyncDelete) {
		if tm.SyncPublish.IsZero() {
			s.sync = s.active
		} else {
			s.sync = reached(tm.SyncPublish)
		}
	}
	return s
}

// withFlags is a copy of k whose DNSKEY has flags.
func (k *Key) withFlags(flags uint16) *Key {
	c := *k
	key := *k.DNSKEY
	key.Flags = flags
	c.DNSKEY = &key
	return &c
}
