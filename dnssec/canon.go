package dnssec

import (
	"bytes"
	"errors"
	"slices"

	"github.com/geotraffic/geotraffic/zones"
	"github.com/miekg/dns"
)

var errBadName = errors.New("malformed or compressed name in RDATA")

// nameFields says where the domain names that RFC 4034 §6.2 (as corrected
// by RFC 6840 §5.1) lowercases sit in a type's RDATA: after skip fixed
// bytes and strs character-strings come count consecutive names.
type nameFields struct{ skip, strs, count int }

func namesOf(typ uint16) (nameFields, bool) {
	switch typ {
	case dns.TypeNS, dns.TypeCNAME, dns.TypePTR, dns.TypeDNAME,
		dns.TypeMB, dns.TypeMG, dns.TypeMR, dns.TypeMD, dns.TypeMF:
		return nameFields{count: 1}, true
	case dns.TypeMX, dns.TypeKX, dns.TypeAFSDB, dns.TypeRT:
		return nameFields{skip: 2, count: 1}, true
	case dns.TypeSOA, dns.TypeMINFO, dns.TypeRP:
		return nameFields{count: 2}, true
	case dns.TypePX:
		return nameFields{skip: 2, count: 2}, true
	case dns.TypeSRV:
		return nameFields{skip: 6, count: 1}, true
	case dns.TypeRRSIG, dns.TypeSIG:
		return nameFields{skip: 18, count: 1}, true
	case dns.TypeNAPTR:
		return nameFields{skip: 4, strs: 3, count: 1}, true
	}
	return nameFields{}, false
}

// canonicalRData returns rd in canonical form: rd itself for types without
// names to lowercase, else a lowercased copy. Names must be uncompressed.
func canonicalRData(typ uint16, rd []byte) ([]byte, error) {
	f, ok := namesOf(typ)
	if !ok {
		return rd, nil
	}
	off := f.skip
	for i := 0; i < f.strs; i++ {
		if off >= len(rd) {
			return nil, errBadName
		}
		off += 1 + int(rd[off])
	}
	out := slices.Clone(rd)
	for i := 0; i < f.count; i++ {
		end, err := nameEnd(rd, off)
		if err != nil {
			return nil, err
		}
		// Length bytes are at most 63, below 'A': lowercasing the whole
		// span touches only label bytes.
		zones.LowerInto(out[off:end], rd[off:end])
		off = end
	}
	return out, nil
}

// nameEnd returns the offset just past the uncompressed wire name at off.
func nameEnd(b []byte, off int) (int, error) {
	for n := 0; off < len(b); n++ {
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1, nil
		case l > 63 || n >= 127:
			return 0, errBadName
		}
		off += 1 + l
	}
	return 0, errBadName
}

// labelCount is the RRSIG labels field for a wire owner: its labels, not
// counting the root nor a leading wildcard label (RFC 4034 §3.1.3).
func labelCount(owner []byte) uint8 {
	n := 0
	for i := 0; i < len(owner) && owner[i] != 0; i += int(owner[i]) + 1 {
		n++
	}
	if len(owner) >= 2 && owner[0] == 1 && owner[1] == '*' {
		n--
	}
	return uint8(n)
}

// canonicalSet returns the RDATAs in canonical form, sorted as unsigned
// bytes with duplicates dropped (RFC 4034 §6.3).
func canonicalSet(typ uint16, rdata [][]byte) ([][]byte, error) {
	out := make([][]byte, 0, len(rdata))
	for _, rd := range rdata {
		c, err := canonicalRData(typ, rd)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal), nil
}

// isWithin reports whether the lowercase wire name owner is apex or below it.
func isWithin(owner, apex []byte) bool {
	if len(apex) == 1 {
		return true
	}
	for i := 0; i < len(owner) && owner[i] != 0; i += int(owner[i]) + 1 {
		if bytes.Equal(owner[i:], apex) {
			return true
		}
	}
	return false
}
