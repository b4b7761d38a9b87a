package bgp

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func validConfig() Config {
	return Config{
		Enabled: true, LocalASN: 64600, Peers: addrs("10.0.0.1", "2001:db8::1"),
		NextHopV4: netip.MustParseAddr("10.0.0.2"), NextHopV6: netip.MustParseAddr("2001:db8::2"),
		LocalIPs: addrs("10.0.0.2", "2001:db8::2"),
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; "" = valid
	}{
		{"valid", func(c *Config) {}, ""},
		{"no asn", func(c *Config) { c.LocalASN = 0 }, "bgp-local-asn"},
		{"no peers", func(c *Config) { c.Peers = nil }, "bgp-peer-address: no peer"},
		{"duplicate peer", func(c *Config) { c.Peers = addrs("10.0.0.1", "10.0.0.1") }, "listed twice"},
		{"unspecified peer", func(c *Config) { c.Peers = addrs("0.0.0.0") }, "not a unicast"},
		{"no local ip of the peer's family", func(c *Config) { c.LocalIPs = addrs("10.0.0.2") }, "bgp-local-ips: no address of the family of peer 2001:db8::1"},
		{"no local ips at all is fine", func(c *Config) { c.LocalIPs = nil }, ""},
		{"router id from next hop", func(c *Config) { c.LocalIPs = addrs("2001:db8::2"); c.Peers = addrs("2001:db8::1") }, ""},
		{"no router id", func(c *Config) {
			c.LocalIPs, c.Peers, c.NextHopV4 = addrs("2001:db8::2"), addrs("2001:db8::1"), netip.Addr{}
		}, "bgp-router-id: missing"},
		{"ipv6 router id", func(c *Config) { c.RouterID = netip.MustParseAddr("::1") }, "bgp-router-id"},
		{"ipv6 next hop for ipv4", func(c *Config) { c.NextHopV4 = netip.MustParseAddr("::2") }, "bgp-nexthop-ipv4"},
		{"mapped next hop for ipv6", func(c *Config) { c.NextHopV6 = netip.MustParseAddr("::ffff:10.0.0.2") }, "bgp-nexthop-ipv6"},
		{"no next hop", func(c *Config) { c.NextHopV4, c.NextHopV6 = netip.Addr{}, netip.Addr{} }, "nothing could be announced"},
		{"as 0 in path", func(c *Config) { c.ASPath = []uint32{64600, 0} }, "bgp-as-path"},
		{"hold time too short", func(c *Config) { c.HoldTime = 2 * time.Second }, "bgp-hold-time"},
		{"connect retry too short", func(c *Config) { c.ConnectRetry = time.Millisecond }, "bgp-connect-retry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.mod(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := Config{LocalASN: 64600, LocalIPs: addrs("2001:db8::2", "10.0.0.7")}.withDefaults()
	if c.PeerPort != 179 || c.LocalPort != 179 || c.HoldTime != 30*time.Second || c.ConnectRetry != 3*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	if !slices.Equal(c.ASPath, []uint32{64600}) || c.RouterID != netip.MustParseAddr("10.0.0.7") {
		t.Errorf("as path %v, router id %v", c.ASPath, c.RouterID)
	}
	if got := c.localAddrFor(netip.MustParseAddr("2001:db8::1")); got != netip.MustParseAddr("2001:db8::2") {
		t.Errorf("local address for an IPv6 peer: %v", got)
	}
}

func TestWireASPath(t *testing.T) {
	for _, tc := range []struct {
		path []uint32
		want []uint32
	}{
		{[]uint32{64600}, []uint32{}},
		{[]uint32{64600, 64601}, []uint32{64601}},
		{[]uint32{64601}, []uint32{64601}},
		{[]uint32{64600, 64600}, []uint32{64600}},
	} {
		c := Config{LocalASN: 64600, ASPath: tc.path}
		if got := c.wireASPath(); !slices.Equal(got, tc.want) {
			t.Errorf("wireASPath(%v) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestCheckRoutes(t *testing.T) {
	c := Config{NextHopV4: netip.MustParseAddr("10.0.0.2")}
	for _, tc := range []struct {
		routes []Route
		want   string
	}{
		{[]Route{{Prefix: mustPrefix("10.1.1.1/32")}}, ""},
		{[]Route{{Prefix: mustPrefix("10.1.1.0/24")}}, "not a host route"},
		{[]Route{{Prefix: mustPrefix("2001:db8::1/128")}}, "bgp-nexthop-ipv6 is not set"},
		{[]Route{{Prefix: mustPrefix("::ffff:10.1.1.1/128")}}, "IPv4-mapped"},
		{[]Route{{Prefix: mustPrefix("10.1.1.1/32")}, {Prefix: mustPrefix("10.1.1.1/32")}}, "listed twice"},
		{[]Route{{}}, "invalid prefix"},
	} {
		err := c.CheckRoutes(tc.routes)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckRoutes(%v) = %v, want %q", tc.routes, err, tc.want)
		}
	}
}

// TestNewTwiceOnOneRegistry: a speaker rebuilt in the same process reuses
// the registered metrics instead of failing.
func TestNewTwiceOnOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	for i := 0; i < 2; i++ {
		if _, err := New(validConfig(), discardLogger(), reg); err != nil {
			t.Fatalf("New #%d: %v", i+1, err)
		}
	}
	if _, err := New(Config{}, discardLogger(), reg); err == nil || !strings.Contains(err.Error(), "bgp-local-asn") {
		t.Errorf("New with an empty config: %v", err)
	}
}
