package bgpe2e

import (
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// StallPeer is a BGP router that brings a session up and then never reads
// from it: the speaker's socket fills (the listener's receive buffer and
// MSS are tiny, so a few hundred UPDATEs suffice) and every later write
// blocks, as with a hung router. It sends keepalives so the session stays
// established meanwhile.
type StallPeer struct {
	Addr string // host:port it listens on
	l    net.Listener
	mu   sync.Mutex
	cs   []net.Conn
	done chan struct{}
}

// StartStallPeer listens on addr (e.g. "127.0.0.1:0") as ASN asn; it is
// closed when the test ends.
func StartStallPeer(t testing.TB, addr string, asn uint32) *StallPeer {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			// Accepted sockets inherit both: a small window, and a small
			// MSS so the speaker's send buffer (sized from it) stays small.
			if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048); serr == nil {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 88)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	l, err := lc.Listen(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &StallPeer{Addr: l.Addr().String(), l: l, done: make(chan struct{})}
	open, err := bgp.NewBGPOpenMessage(bgp.AS_TRANS, 30, "10.255.0.9", []bgp.OptionParameterInterface{
		bgp.NewOptionParameterCapability([]bgp.ParameterCapabilityInterface{
			bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC),
			bgp.NewCapFourOctetASNumber(asn),
		}),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	keepalive, err := bgp.NewBGPKeepAliveMessage().Serialize()
	if err != nil {
		t.Fatal(err)
	}
	go p.accept(append(open, keepalive...), keepalive)
	t.Cleanup(p.Close)
	return p
}

// Port is the listening port.
func (p *StallPeer) Port() uint16 { return uint16(p.l.Addr().(*net.TCPAddr).Port) }

func (p *StallPeer) accept(hello, keepalive []byte) {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.cs = append(p.cs, c)
		p.mu.Unlock()
		// The speaker's OPEN and KEEPALIVE stay unread in the buffer;
		// ours complete the handshake (the speaker does not wait for us
		// to read its messages).
		go func() {
			if _, err := c.Write(hello); err != nil {
				return
			}
			t := time.NewTicker(5 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-p.done:
					return
				case <-t.C:
					if _, err := c.Write(keepalive); err != nil {
						return
					}
				}
			}
		}()
	}
}

// Close stops listening and drops the connections; idempotent.
func (p *StallPeer) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
	p.l.Close()
	for _, c := range p.cs {
		c.Close()
	}
}
