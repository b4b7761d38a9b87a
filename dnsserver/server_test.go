package dnsserver

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/geotraffic/geotraffic/internal/testutil"
	"github.com/miekg/dns"
)

func startTest(t *testing.T, listen ...string) *Server {
	t.Helper()
	return startServer(t, Config{Listen: listen, UDPSockets: 2}, testSnapshot(t))
}

// startServer starts a server of cfg answering from snap until the test
// ends.
func startServer(t *testing.T, cfg Config, snap *Snapshot) *Server {
	t.Helper()
	s := New(cfg, snap, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

func askUDP(addr, network string) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: time.Second}
	r, _, err := c.Exchange(query("www.example.org.", dns.TypeA), addr)
	return r, err
}

func TestCountersByProtocolQtypeRcode(t *testing.T) {
	s := startTest(t, "127.0.0.1:0")
	addr := s.Addrs()[0].String()
	for _, network := range []string{"udp", "tcp"} {
		if _, err := askUDP(addr, network); err != nil {
			t.Fatal(err)
		}
	}
	c := &dns.Client{Timeout: time.Second}
	if _, _, err := c.Exchange(query("nope.example.org.", dns.TypeAAAA), addr); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	for _, tc := range []struct {
		proto, qtype, rcode int
		want                uint64
	}{
		{0, 0, 0, 1}, // udp A NOERROR
		{1, 0, 0, 1}, // tcp A NOERROR
		{0, 7, 3, 1}, // udp AAAA NXDOMAIN
		{1, 7, 3, 0},
	} {
		if got := st.QueryCount(tc.proto, tc.qtype, tc.rcode); got != tc.want {
			t.Errorf("%s %s %s = %d, want %d", ProtoNames[tc.proto], QtypeNames[tc.qtype], RcodeNames[tc.rcode], got, tc.want)
		}
	}
	if st.TCPAccepted != 1 {
		t.Errorf("tcp accepted = %d, want 1", st.TCPAccepted)
	}
	// gdnsd-style totals are derived from the array across protocols and qtypes.
	if st.NoError != 2 || st.NXDomain != 1 || st.Refused != 0 || st.FormErr != 0 {
		t.Errorf("totals noerror=%d nxdomain=%d refused=%d formerr=%d, want 2 1 0 0",
			st.NoError, st.NXDomain, st.Refused, st.FormErr)
	}
}

func TestQtypeSlots(t *testing.T) {
	for _, tc := range []struct {
		q    uint16
		name string
	}{{dns.TypeA, "A"}, {dns.TypeCAA, "CAA"}, {dns.TypeANY, "ANY"}, {dns.TypeHTTPS, "HTTPS"}, {dns.TypeHINFO, "other"}, {65000, "other"}} {
		if got := QtypeNames[qtypeSlot(tc.q)]; got != tc.name {
			t.Errorf("qtype %d → %s, want %s", tc.q, got, tc.name)
		}
	}
}

func TestRebindOpensNewBeforeClosingOld(t *testing.T) {
	s := startTest(t, "127.0.0.1:0")
	first := s.Addrs()[0].String()
	if _, err := askUDP(first, "udp"); err != nil {
		t.Fatal(err)
	}
	// Same configured address, another socket count: the port stays.
	if err := s.Rebind(Config{Listen: []string{"127.0.0.1:0"}, UDPSockets: 3}); err != nil {
		t.Fatal(err)
	}
	if got := s.Addrs()[0].String(); got != first {
		t.Fatalf("socket count change moved %s to %s", first, got)
	}
	if _, err := askUDP(first, "udp"); err != nil {
		t.Fatalf("after the socket count change: %v", err)
	}
	// A new address: served; the old one is closed.
	free := testutil.FreeAddr(t)
	if err := s.Rebind(Config{Listen: []string{free}, UDPSockets: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := askUDP(free, "udp"); err != nil {
		t.Fatalf("new address: %v", err)
	}
	if _, err := askUDP(free, "tcp"); err != nil {
		t.Fatalf("new address over TCP: %v", err)
	}
	if _, err := askUDP(first, "tcp"); err == nil {
		t.Fatal("the old address still answers TCP")
	}
	// A failing bind changes nothing.
	if err := s.Rebind(Config{Listen: []string{free, "192.0.2.1:53"}, UDPSockets: 1}); err == nil {
		t.Fatal("binding a non-local address succeeded")
	}
	if _, err := askUDP(free, "udp"); err != nil {
		t.Fatalf("after a failed rebind: %v", err)
	}
	if st := s.Stats(); st.QueryCount(0, 0, 0) < 4 {
		t.Errorf("counters of closed sockets were lost: %d", st.QueryCount(0, 0, 0))
	}
}
