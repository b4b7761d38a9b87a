package gdnsddiffe2e

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// query is one question, sent identically to both servers.
type query struct {
	Name    string // as sent (case kept)
	Qtype   uint16
	Qclass  uint16
	ID      uint16
	TCP     bool
	IPv6    bool // sent from ::1 to the server's ::1 address
	RD, CD  bool
	Opcode  int
	EDNS    bool
	Version uint8  // EDNS version
	BufSize uint16 // EDNS payload size
	DO      bool
	ECS     netip.Prefix // zero: no ECS option
	Cookie  string       // client cookie, hex; "" = none
	NSID    bool         // ask for the server's NSID
	// Keepalive sends an empty edns-tcp-keepalive option (RFC 7828).
	Keepalive bool
	BadECS    bool   // ECS with a non-zero scope (FORMERR)
	Feature   string // what the name holds (report grouping)
}

func (q query) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", q.Name, dns.TypeToString[q.Qtype])
	if q.Qclass != dns.ClassINET {
		fmt.Fprintf(&b, " class=%s", dns.ClassToString[q.Qclass])
	}
	if q.Opcode != dns.OpcodeQuery {
		fmt.Fprintf(&b, " opcode=%s", dns.OpcodeToString[q.Opcode])
	}
	if q.TCP {
		b.WriteString(" tcp")
	} else {
		b.WriteString(" udp")
	}
	if q.IPv6 {
		b.WriteString("6")
	}
	if q.RD {
		b.WriteString(" rd")
	}
	if q.CD {
		b.WriteString(" cd")
	}
	if !q.EDNS {
		b.WriteString(" noedns")
	} else {
		fmt.Fprintf(&b, " edns(v%d bufsize=%d", q.Version, q.BufSize)
		if q.DO {
			b.WriteString(" do")
		}
		if q.ECS.IsValid() {
			fmt.Fprintf(&b, " ecs=%s", q.ECS)
			if q.BadECS {
				b.WriteString(" scope!=0")
			}
		}
		if q.Cookie != "" {
			b.WriteString(" cookie")
		}
		if q.NSID {
			b.WriteString(" nsid")
		}
		if q.Keepalive {
			b.WriteString(" keepalive")
		}
		b.WriteString(")")
	}
	return b.String()
}

// msg builds the query message.
func (q query) msg() *dns.Msg {
	m := new(dns.Msg)
	m.Id = q.ID
	m.Opcode = q.Opcode
	m.RecursionDesired = q.RD
	m.CheckingDisabled = q.CD
	m.Question = []dns.Question{{Name: q.Name, Qtype: q.Qtype, Qclass: q.Qclass}}
	if q.EDNS {
		o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		o.SetUDPSize(q.BufSize)
		o.SetVersion(q.Version)
		if q.DO {
			o.SetDo()
		}
		if q.ECS.IsValid() {
			e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: uint8(q.ECS.Bits()),
				Address: q.ECS.Addr().AsSlice()}
			if q.ECS.Addr().Is6() {
				e.Family = 2
			}
			if q.BadECS {
				e.SourceScope = 8
			}
			o.Option = append(o.Option, e)
		}
		if q.Cookie != "" {
			o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: q.Cookie})
		}
		if q.NSID {
			o.Option = append(o.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		}
		if q.Keepalive {
			o.Option = append(o.Option, &dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE})
		}
		m.Extra = append(m.Extra, o)
	}
	return m
}

// errNoReply is a query no server answered in time (after retries).
var errNoReply = errors.New("no reply")

// exchange sends q to s (its IPv6 address when q.IPv6) and returns the
// reply, nil when none came (UDP: 3 tries of 1 s; TCP: one try of 3 s).
func exchange(s *dnsServer, q query) (*dns.Msg, error) {
	addr := s.addr
	if q.IPv6 {
		addr = s.addr6
	}
	wire, err := q.msg().Pack()
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", q, err)
	}
	var reply []byte
	if q.TCP {
		reply, err = exchangeTCP(addr, wire)
	} else {
		reply, err = exchangeUDP(addr, wire, q.ID)
	}
	if errors.Is(err, errNoReply) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	if err := m.Unpack(reply); err != nil {
		return nil, fmt.Errorf("unpack reply to %s: %w (%x)", q, err, reply)
	}
	return m, nil
}

func exchangeUDP(addr string, wire []byte, id uint16) ([]byte, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	buf := make([]byte, 65535)
	for try := 0; try < 3; try++ {
		if _, err := c.Write(wire); err != nil {
			return nil, err
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		for {
			n, err := c.Read(buf)
			if err != nil {
				break // timeout: send again
			}
			if n >= 2 && binary.BigEndian.Uint16(buf) == id {
				return append([]byte(nil), buf[:n]...), nil
			}
		}
	}
	return nil, errNoReply
}

func exchangeTCP(addr string, wire []byte) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	framed := binary.BigEndian.AppendUint16(nil, uint16(len(wire)))
	if _, err := c.Write(append(framed, wire...)); err != nil {
		return nil, err
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		if errors.Is(err, io.EOF) || isTimeout(err) {
			return nil, errNoReply
		}
		return nil, err
	}
	reply := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
