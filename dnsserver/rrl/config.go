package rrl

import (
	"net/netip"
	"slices"
)

// Config is the `rrl:` section of authdns.yaml, with defaults applied.
type Config struct {
	ResponsesPerSecond int // answers and referrals; 0 limits none
	NXDomainsPerSecond int
	ErrorsPerSecond    int
	Window             int // seconds; the balance floor is -Window×rate
	Slip               int // every Slip-th limited response is sent as TC=1; 0 never
	IPv4Prefix         int
	IPv6Prefix         int
	Exempt             []netip.Prefix
	TableSize          int // accounts kept; the least recently used is evicted
	LogOnly            bool
}

// Defaults, as BIND's.
const (
	DefaultWindow     = 15
	DefaultSlip       = 2
	DefaultIPv4Prefix = 24
	DefaultIPv6Prefix = 56
	DefaultTableSize  = 20000
	MaxTableSize      = 1 << 20
	MaxRate           = 1000000
	MaxWindow         = 3600
	MaxSlip           = 10
)

// Equal reports whether c and o configure the same limiter, so a reload
// that leaves them alone keeps the accounts.
func (c *Config) Equal(o *Config) bool {
	if c == nil || o == nil {
		return c == o
	}
	return c.ResponsesPerSecond == o.ResponsesPerSecond && c.NXDomainsPerSecond == o.NXDomainsPerSecond &&
		c.ErrorsPerSecond == o.ErrorsPerSecond && c.Window == o.Window && c.Slip == o.Slip &&
		c.IPv4Prefix == o.IPv4Prefix && c.IPv6Prefix == o.IPv6Prefix && c.TableSize == o.TableSize &&
		c.LogOnly == o.LogOnly && slices.Equal(c.Exempt, o.Exempt)
}
