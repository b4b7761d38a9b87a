package rrl

import (
	"net/netip"
	"testing"
	"time"
)

// BenchmarkAccount is the cost rate limiting adds to a UDP answer: 1024
// networks in turn, none over its rate, the clock read once per 32
// responses as a UDP reader does.
func BenchmarkAccount(b *testing.B) {
	l := New(Config{ResponsesPerSecond: MaxRate, Window: DefaultWindow, Slip: DefaultSlip, IPv4Prefix: DefaultIPv4Prefix,
		IPv6Prefix: DefaultIPv6Prefix, TableSize: DefaultTableSize}, nil, nil)
	var srcs [1024]netip.Addr
	for i := range srcs {
		srcs[i] = netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
	}
	name := wire("www", "example", "org")
	var now time.Time
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%32 == 0 {
			now = time.Now()
		}
		if l.AccountAt(now, Response, srcs[i&1023], 1, name) != Send {
			b.Fatal("limited")
		}
	}
}
