package dnsserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A burst sent before any reply is read queues many packets on the socket,
// so the server reads them in batches (recvmmsg on Linux): every query must
// get exactly one reply, to the right address, with its own ID and name.
func TestUDPBurstIsAnsweredInFull(t *testing.T) {
	for _, network := range []string{"udp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			listen := "127.0.0.1:0"
			if network == "udp6" {
				listen = "[::1]:0"
			}
			s := startTest(t, listen)
			server := s.Addrs()[0].(*net.UDPAddr)
			c, err := net.DialUDP(network, nil, server)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetReadBuffer(1 << 20)
			names := []string{"www.example.org.", "nope.example.org.", "mail.example.org.", "alias.example.org."}
			const n = 200 // below what a default-sized receive buffer holds (~256 small datagrams)
			for i := 0; i < n; i++ {
				q := query(names[i%len(names)], dns.TypeA)
				q.Id = uint16(i)
				p, _ := q.Pack()
				if _, err := c.Write(p); err != nil {
					t.Fatal(err)
				}
			}
			seen := make([]bool, n)
			buf := make([]byte, 65535)
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for got := 0; got < n; got++ {
				m, err := c.Read(buf)
				if err != nil {
					t.Fatalf("after %d replies: %v", got, err)
				}
				r := new(dns.Msg)
				if err := r.Unpack(buf[:m]); err != nil {
					t.Fatal(err)
				}
				id := int(r.Id)
				if id >= n || seen[id] {
					t.Fatalf("unexpected or duplicate reply id %d", id)
				}
				seen[id] = true
				if r.Question[0].Name != names[id%len(names)] {
					t.Fatalf("reply %d is for %s", id, r.Question[0].Name)
				}
			}
			if q := s.Stats().UDP; q < n {
				t.Fatalf("stats count %d UDP queries, sent %d", q, n)
			}
		})
	}
}

// A datagram larger than the query buffer is dropped, and the next query
// on the same socket is still answered.
func TestUDPOversizedQueryDropped(t *testing.T) {
	s := startTest(t, "127.0.0.1:0")
	c, err := net.DialUDP("udp4", nil, s.Addrs()[0].(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(make([]byte, 8000))
	p, _ := query("www.example.org.", dns.TypeA).Pack()
	c.Write(p)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 65535)
	m, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(buf[:m]); err != nil || len(r.Answer) != 2 {
		t.Fatalf("reply %v %v", r, err)
	}
}

// Shutdown must stop every UDP reader, even one blocked in the kernel on an
// idle socket, and release the sockets: afterwards the port can be bound
// again by a socket without SO_REUSEPORT.
func TestShutdownReleasesIdleUDPSockets(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", "[::1]:0"} {
		s := New(Config{Listen: []string{listen}, UDPSockets: 3}, testSnapshot(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		addr := s.Addrs()[0].(*net.UDPAddr)
		if _, err := askUDP(addr.String(), "udp"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := s.Shutdown(ctx)
		cancel()
		if err != nil {
			t.Fatalf("%s: Shutdown: %v", listen, err)
		}
		c, err := net.ListenUDP("udp", addr)
		if err != nil {
			t.Fatalf("%s: port still held after Shutdown: %v", listen, err)
		}
		c.Close()
	}
}
