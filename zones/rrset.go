package zones

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/miekg/dns"
)

// RRset is one owner/type set, packed at load time so that answering is a
// copy of bytes. RDATA is packed without compression, which RFC 3597 makes
// mandatory for unknown types and is always valid for the well-known ones.
type RRset struct {
	Owner []byte // wire, as written in the zone (case kept)
	Type  uint16
	Class uint16
	TTL   uint32
	RData [][]byte

	// Additional holds in-zone A/AAAA sets for NS, MX and SRV targets
	// (and glue below a cut), resolved once after the zone is built.
	Additional []*RRset
	// Target is the lowercased wire target for CNAME sets.
	Target []byte

	rrs   []dns.RR // the parsed records while the zone is checked; nil after
	lines []pos    // where each record is, for errors
}

// RRs returns the records, unpacked from what is served.
func (s *RRset) RRs() []dns.RR {
	if s.rrs != nil {
		return s.rrs
	}
	out := make([]dns.RR, 0, len(s.RData))
	for _, rd := range s.RData {
		buf := append([]byte(nil), s.Owner...)
		buf = binary.BigEndian.AppendUint16(buf, s.Type)
		buf = binary.BigEndian.AppendUint16(buf, s.Class)
		buf = binary.BigEndian.AppendUint32(buf, s.TTL)
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(rd)))
		if rr, _, err := dns.UnpackRR(append(buf, rd...), 0); err == nil {
			out = append(out, rr)
		}
	}
	return out
}

// add adds rr, packed in scratch (grown as needed and reusable by the
// caller; nil is fine).
func (s *RRset) add(rr dns.RR, where pos, scratch *[]byte) error {
	rdata, err := packRData(rr, scratch)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	for _, existing := range s.RData {
		if bytes.Equal(existing, rdata) { // duplicate record: RFC 2181 §5 says ignore
			return nil
		}
	}
	s.RData = append(s.RData, rdata)
	s.rrs = append(s.rrs, rr)
	s.lines = append(s.lines, where)
	return nil
}

// packRData returns a copy of rr's packed RDATA, packing in scratch.
func packRData(rr dns.RR, scratch *[]byte) ([]byte, error) {
	var local []byte
	if scratch == nil {
		scratch = &local
	}
	if n := dns.Len(rr) + 16; cap(*scratch) < n {
		*scratch = make([]byte, n)
	}
	buf := (*scratch)[:cap(*scratch)]
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("cannot pack %s record: %w", dns.TypeToString[rr.Header().Rrtype], err)
	}
	// Skip the owner name (uncompressed), type, class, TTL and rdlength.
	hoff := 0
	for hoff < off && buf[hoff] != 0 {
		hoff += int(buf[hoff]) + 1
	}
	hoff += 1 + 10
	if hoff > off {
		return nil, fmt.Errorf("cannot pack %s record", dns.TypeToString[rr.Header().Rrtype])
	}
	return append([]byte(nil), buf[hoff:off]...), nil
}

// pos is where a record is: a file and a line. The file string is shared
// by every record of the file, so a record costs no string of its own.
type pos struct {
	file string
	line int
}

func (p pos) String() string { return p.file + ":" + strconv.Itoa(p.line) }

// targets returns the lowercased wire names that want additional A/AAAA.
func (s *RRset) targets() [][]byte {
	var out [][]byte
	for _, rr := range s.rrs {
		var t string
		switch v := rr.(type) {
		case *dns.NS:
			t = v.Ns
		case *dns.MX:
			t = v.Mx
		case *dns.SRV:
			t = v.Target
		default:
			continue
		}
		if w, err := wireName(t); err == nil {
			out = append(out, lowerWire(w))
		}
	}
	return out
}
