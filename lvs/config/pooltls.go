package config

import (
	"fmt"
	"strings"
)

// https:// pool sources are verified (pool-ca-file, or the system roots)
// unless a service sets pool-tls-insecure; the daemon reads the CA file.

// PoolHTTPS reports whether the pool comes from an https:// source.
func (s *Service) PoolHTTPS() bool { return strings.HasPrefix(s.PoolURL, "https://") }

// checkPoolCA warns about a pool-ca-file no service uses.
func (c *Config) checkPoolCA() {
	if c.Global.PoolCAFile == "" {
		return
	}
	for _, s := range c.Services {
		if s.PoolHTTPS() && !s.PoolTLSInsecure {
			return
		}
	}
	c.Warnings = append(c.Warnings, fmt.Sprintf("%s: pool-ca-file: no effect: no service verifies an https:// pool source", c.Global.PoolCAFilePos))
}
